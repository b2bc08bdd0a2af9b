"""`kluis clients …`: register and manage relying parties (platforms)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Protocol

import click

from core import Database, OAuthError, Problem
from identity.oidc.authorize import STEWARD_SCOPE
from identity.oidc.clients import (
    AUTH_METHODS,
    DEFAULT_SCOPE,
    ID_TOKEN_ALGS,
    SUBJECT_TYPES,
    ClientSpec,
    create_client,
    describe,
    get_client,
    list_clients,
    remove_client,
    rotate_secret,
)
from identity.oidc.registration import issue_initial_access_token
from identity.oidc.sector import fetch_sector_uris


class _Mode(Protocol):
    @property
    def production(self) -> bool: ...


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
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@click.option("--post-logout-redirect-uri", "post_logout", multiple=True)
@click.option("--backchannel-logout-uri")
@click.option("--events-uri", help="RFC 8935 push endpoint for security events (erasure).")
@click.option("--public", is_flag=True, help="A public client (no secret; PKCE only).")
@click.option(
    "--subject-type", type=click.Choice(SUBJECT_TYPES), default="pairwise", show_default=True
)
@click.option("--sector-identifier-uri")
@click.option(
    "--id-token-alg", type=click.Choice(ID_TOKEN_ALGS), default="RS256", show_default=True
)
@click.option("--auth-method", type=click.Choice(AUTH_METHODS))
@click.option("--jwks-file", type=click.File("r"), help="JWKS for private_key_jwt.")
@click.option("--jwks-uri")
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
    spec = ClientSpec(
        name=opts["name"],
        redirect_uris=opts["redirect_uris"],
        post_logout_redirect_uris=opts["post_logout"],
        backchannel_logout_uri=opts["backchannel_logout_uri"],
        events_uri=opts["events_uri"],
        public=opts["public"],
        token_endpoint_auth_method=opts["auth_method"],
        subject_type=opts["subject_type"],
        sector_identifier_uri=opts["sector_identifier_uri"],
        sector_redirect_uris=sector_uris,
        id_token_alg=opts["id_token_alg"],
        jwks=json.load(opts["jwks_file"]) if opts["jwks_file"] else None,
        jwks_uri=opts["jwks_uri"],
        purpose=opts["purpose"],
        scope=f"{DEFAULT_SCOPE} {STEWARD_SCOPE}" if opts["steward_tool"] else DEFAULT_SCOPE,
        allow_loopback_targets=not runtime.settings.production,
    )
    try:
        with runtime.db.transaction() as session:
            client, secret = create_client(session, spec)
            data = describe(client)
    except Problem as exc:
        raise click.ClickException(exc.detail) from exc
    if secret:
        data["client_secret"] = secret
    _emit(data, opts["as_json"])


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
        remove_client(session, _load(session, client_id))
    click.echo(f"removed {client_id}")


@clients_cli.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def rotate(runtime: ClientsRuntime, client_id: str, as_json: bool) -> None:
    """Issue a new client secret; the old one stops working at once."""
    try:
        with runtime.db.transaction() as session:
            secret = rotate_secret(session, _load(session, client_id))
    except Problem as exc:
        raise click.ClickException(exc.detail) from exc
    _emit({"client_id": client_id, "client_secret": secret}, as_json)


@clients_cli.command("registration-token")
@click.option("--hours", type=int, default=24, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def registration_token(runtime: ClientsRuntime, hours: int, as_json: bool) -> None:
    """Issue a single-use initial access token for RFC 7591 dynamic registration."""
    with runtime.db.transaction() as session:
        token, expires = issue_initial_access_token(session, dt.timedelta(hours=hours))
    _emit({"initial_access_token": token, "expires_at": expires.isoformat()}, as_json)
