"""`kluis clients …`: register and manage relying parties (platforms)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any, Protocol

import click

from core import Database, OAuthError, Problem
from identity.oidc.authorize import STEWARD_SCOPE
from identity.oidc.clients import (
    AUTH_METHODS,
    ID_TOKEN_ALGS,
    SUBJECT_TYPES,
    describe,
    get_client,
    list_clients,
)
from identity.oidc.platform_edit import (
    PlatformEdit,
    PlatformEditRefused,
    current_edit,
    edit_platform,
)
from identity.oidc.platform_settings import platform_settings, render_text
from identity.oidc.platforms import (
    add_platform,
    outbox_by_platform,
    platform_spec,
    remove_platform,
    rotate_platform_secret,
)
from identity.oidc.presets import PRESETS, get_preset
from identity.oidc.registration import issue_initial_access_token
from identity.oidc.sector import fetch_sector_uris

OPERATOR = "operator:cli"


class _Mode(Protocol):
    @property
    def production(self) -> bool: ...
    @property
    def issuer(self) -> str: ...


class ClientsRuntime(Protocol):
    @property
    def db(self) -> Database: ...
    @property
    def settings(self) -> _Mode: ...


def _emit(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        for key, value in data.items():
            click.echo(f"{key:<28} {value}")


@click.group("clients")
def clients_cli() -> None:
    """Relying parties (platforms) that log residents in through Kluis."""


@clients_cli.command("add")
@click.option(
    "--preset",
    type=click.Choice(sorted(PRESETS)),
    help="Fill the client as this platform's OpenID Connect plug-in expects (needs --base-url); "
    "options given beside it win. Prints the settings to type on the platform's side.",
)
@click.option("--base-url", help="The platform's address (with --preset).")
@click.option("--name", help="Required without --preset.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Required without --preset.")
@click.option("--post-logout-redirect-uri", "post_logout", multiple=True)
@click.option("--backchannel-logout-uri")
@click.option("--events-uri", help="RFC 8935 push endpoint for security events (erasure).")
@click.option("--public", is_flag=True, help="A public client (no secret; PKCE only).")
@click.option("--subject-type", type=click.Choice(SUBJECT_TYPES), help="[default: pairwise]")
@click.option("--sector-identifier-uri")
@click.option("--id-token-alg", type=click.Choice(ID_TOKEN_ALGS), help="[default: RS256]")
@click.option("--auth-method", type=click.Choice(AUTH_METHODS))
@click.option("--jwks-file", type=click.File("r"), help="JWKS for private_key_jwt.")
@click.option("--jwks-uri")
@click.option("--scope", help="The scopes the client may ask for [default: all, or the preset's].")
@click.option("--purpose", default="", help="Why the platform asks for data (shown to residents).")
@click.option(
    "--steward-tool",
    is_flag=True,
    help="May ask for the `steward` scope (granted only to accounts with the steward role).",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def add(runtime: ClientsRuntime, /, **opts: Any) -> None:
    """Register a client; prints client_id (and client_secret, shown only once)."""
    try:
        sector_uris = (
            fetch_sector_uris(opts["sector_identifier_uri"])
            if opts["sector_identifier_uri"]
            else None
        )
    except OAuthError as exc:
        raise click.ClickException(exc.description or exc.error) from exc
    given = {
        "name": opts["name"],
        "redirect_uris": opts["redirect_uris"] or None,
        "post_logout_redirect_uris": opts["post_logout"] or None,
        "backchannel_logout_uri": opts["backchannel_logout_uri"],
        "events_uri": opts["events_uri"],
        "public": opts["public"] or None,
        "token_endpoint_auth_method": opts["auth_method"],
        "subject_type": opts["subject_type"],
        "sector_identifier_uri": opts["sector_identifier_uri"],
        "sector_redirect_uris": sector_uris,
        "id_token_alg": opts["id_token_alg"],
        "jwks": json.load(opts["jwks_file"]) if opts["jwks_file"] else None,
        "jwks_uri": opts["jwks_uri"],
        "purpose": opts["purpose"],
        "scope": opts["scope"],
        "allow_loopback_targets": not runtime.settings.production,
    }
    try:
        if opts["preset"]:
            if not opts["base_url"]:
                raise click.UsageError("--preset needs --base-url")
            preset = get_preset(opts["preset"])
        elif not opts["name"] or not opts["redirect_uris"]:
            raise click.UsageError("--name and --redirect-uri are needed without --preset")
        spec = platform_spec(opts["preset"], opts["base_url"], given)
        if opts["steward_tool"]:
            spec = dataclasses.replace(spec, scope=f"{spec.scope} {STEWARD_SCOPE}")
        with runtime.db.transaction() as session:
            client, secret = add_platform(session, spec, OPERATOR, opts["preset"])
            data = describe(client)
    except Problem as exc:
        raise click.ClickException(exc.detail) from exc
    if secret:
        data["client_secret"] = secret
    settings = None
    if opts["preset"]:
        settings = platform_settings(
            preset,
            issuer=runtime.settings.issuer,
            base_url=opts["base_url"],
            client=data,
            secret=secret,
        )
        if opts["as_json"]:
            data["platform"] = settings
    _emit(data, opts["as_json"])
    if settings and not opts["as_json"]:
        click.echo("\n" + render_text(settings))


@clients_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(runtime: ClientsRuntime, as_json: bool) -> None:
    with runtime.db.transaction() as session:
        rows = [describe(c) for c in list_clients(session)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        for row in rows:
            click.echo(f"{row['client_id']:<28} {row['client_name']}")


def _load(session: Any, client_id: str) -> Any:
    client = get_client(session, client_id)
    if client is None:
        raise click.ClickException(f"no client {client_id}")
    return client


@clients_cli.command("show")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show(runtime: ClientsRuntime, client_id: str, as_json: bool) -> None:
    with runtime.db.transaction() as session:
        data = describe(_load(session, client_id))
    _emit(data, as_json)


@clients_cli.command("remove")
@click.argument("client_id")
@click.pass_obj
def remove(runtime: ClientsRuntime, client_id: str) -> None:
    """Remove a client and everything issued to it."""
    with runtime.db.transaction() as session:
        remove_platform(session, _load(session, client_id), OPERATOR)
    click.echo(f"removed {client_id}")


@clients_cli.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def rotate(runtime: ClientsRuntime, client_id: str, as_json: bool) -> None:
    """Issue a new client secret; the old one stops working at once."""
    try:
        with runtime.db.transaction() as session:
            secret = rotate_platform_secret(session, _load(session, client_id), OPERATOR)
    except Problem as exc:
        raise click.ClickException(exc.detail) from exc
    _emit({"client_id": client_id, "client_secret": secret}, as_json)


def _edit_of(now: PlatformEdit, opts: dict[str, Any]) -> PlatformEdit:
    """`now` with what the options of `kluis clients update` change ('' removes a URI)."""

    def optional(given: str | None, current: str | None) -> str | None:
        return current if given is None else given or None

    post_logout = tuple(opts["post_logout"]) or now.post_logout_redirect_uris
    return PlatformEdit(
        name=now.name if opts["name"] is None else opts["name"],
        redirect_uris=tuple(opts["redirect_uris"]) or now.redirect_uris,
        post_logout_redirect_uris=() if opts["no_post_logout"] else post_logout,
        backchannel_logout_uri=optional(opts["backchannel_logout_uri"], now.backchannel_logout_uri),
        events_uri=optional(opts["events_uri"], now.events_uri),
    )


@clients_cli.command("update")
@click.argument("client_id")
@click.option("--name", help="The name residents see.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Replaces every redirect URI.")
@click.option(
    "--post-logout-redirect-uri", "post_logout", multiple=True, help="Replaces every one."
)
@click.option("--no-post-logout-redirect-uris", "no_post_logout", is_flag=True)
@click.option("--backchannel-logout-uri", help="'' removes it.")
@click.option("--events-uri", help="'' removes it (erasure requests are then told by hand).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def update(runtime: ClientsRuntime, /, client_id: str, **opts: Any) -> None:
    """Change a client's addresses or name (options not given stay as they are); as the
    console's platform page does. Redirect URIs stay on the platform's host."""
    try:
        with runtime.db.transaction() as session:
            client = _load(session, client_id)
            edit = _edit_of(current_edit(client), opts)
            changed = edit_platform(
                session,
                client,
                edit,
                OPERATOR,
                allow_loopback_targets=not runtime.settings.production,
            )
            data = describe(client)
    except PlatformEditRefused as exc:
        raise click.ClickException(exc.detail) from exc
    _emit(
        {**data, "changed": changed}
        if opts["as_json"]
        else {"changed": ", ".join(changed) or "nothing"},
        opts["as_json"],
    )


@clients_cli.command("registration-token")
@click.option("--hours", type=int, default=24, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def registration_token(runtime: ClientsRuntime, hours: int, as_json: bool) -> None:
    """Issue a single-use initial access token for RFC 7591 dynamic registration."""
    with runtime.db.transaction() as session:
        token, expires = issue_initial_access_token(session, dt.timedelta(hours=hours))
    _emit({"initial_access_token": token, "expires_at": expires.isoformat()}, as_json)


@clients_cli.command("outbox")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def outbox(runtime: ClientsRuntime, as_json: bool) -> None:
    """Deliveries to platforms (back-channel logout, erasure events) pending or failing, per
    platform; as the console's /console/outbox shows them."""
    with runtime.db.transaction() as session:
        rows = [line.as_dict() for line in outbox_by_platform(session)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no deliveries")
    for row in rows:
        name = row["client_name"] or "(removed)"
        click.echo(
            f"{row['client_id']:<28} {name:<24} pending {row['pending']}  failing "
            f"{row['failing']}  delivered {row['delivered']}"
            + (f"  last error {row['last_error']}" if row["last_error"] else "")
        )
