"""`kluis attestations …`: make credential offers, revoke and list issued credentials."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any, Protocol

import click

from attestations.config import OFFER_TTL_BOUNDS, AttestationConfig
from attestations.issuance import create_offer, purge_expired
from attestations.qr import qr_png
from attestations.statuslist import issued_credentials, revoke_credential
from attestations.types import TYPES
from attestations.verifier.purge import purge_sessions
from attestations.wallet import issue_to_wallet
from core import Database, Problem
from identity import Account, Accounts, find_by_email, get_account
from keys import Keyring, SubjectKeys

ACTOR = "operator:cli"


class AttestationsRuntime(Protocol):
    @property
    def attestations(self) -> AttestationConfig: ...
    @property
    def db(self) -> Database: ...
    @property
    def keyring(self) -> Keyring: ...
    @property
    def subject_keys(self) -> SubjectKeys: ...
    @property
    def accounts(self) -> Accounts: ...


def _account(runtime: AttestationsRuntime, session: Any, identifier: str) -> Account:
    account = (
        find_by_email(runtime.accounts, session, identifier.strip().lower())
        if "@" in identifier
        else get_account(session, identifier)
    )
    if account is None:
        raise click.BadParameter("no such account", param_hint="--account")
    return account


@click.group("attestations")
def attestations_cli() -> None:
    """Credential offers (OpenID4VCI) and issued credentials."""


def _claims_help() -> str:
    """The `--claims` members of every type, for `kluis attestations offer --help`."""
    lines = ["Claims per --type (the JSON object given with --claims):", ""]
    for type_id, spec in TYPES.items():
        lines += ["\b", f"{type_id} ({spec.name['en']})"]
        for member in spec.inputs:
            need = "required" if member.required else "optional"
            lines.append(f"  {member.name:<17} {need}: {member.allowed}")
        if spec.example is not None:
            lines.append(f"  example: --claims '{json.dumps(spec.example)}'")
        lines.append("")
    return "\n".join(lines)


@attestations_cli.command("offer", epilog=_claims_help())
@click.option("--account", "identifier", required=True, help="Account id or e-mail address.")
@click.option("--type", "type_id", required=True, type=click.Choice(list(TYPES)))
@click.option("--claims", "claims_json", required=True, help="The claims as a JSON object.")
@click.option(
    "--ttl",
    "ttl_seconds",
    type=click.IntRange(
        int(OFFER_TTL_BOUNDS[0].total_seconds()), int(OFFER_TTL_BOUNDS[1].total_seconds())
    ),
    default=int(AttestationConfig.offer_ttl.total_seconds()),
    show_default=True,
    help="Seconds the offer stays valid.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--qr", "qr_file", type=click.Path(dir_okay=False, path_type=Path), help="PNG file.")
@click.option(
    "--to-wallet",
    is_flag=True,
    help="Issue straight into the resident's built-in Kluis wallet (no offer to collect).",
)
@click.pass_obj
def offer(
    runtime: AttestationsRuntime,
    identifier: str,
    type_id: str,
    claims_json: str,
    ttl_seconds: int,
    as_json: bool,
    qr_file: Path | None,
    to_wallet: bool,
) -> None:
    """Offer a credential to a resident's wallet; prints the offer and its transaction code.
    With --to-wallet, issue it into the resident's built-in Kluis wallet instead."""
    try:
        claims = json.loads(claims_json)
    except ValueError as exc:
        raise click.BadParameter("not valid JSON", param_hint="--claims") from exc
    config = dataclasses.replace(runtime.attestations, offer_ttl=dt.timedelta(seconds=ttl_seconds))
    try:
        if to_wallet:
            _issue_to_wallet(runtime, config, identifier, type_id, claims, as_json)
            return
        with runtime.db.transaction() as session:
            account = _account(runtime, session, identifier)
            created = create_offer(
                session,
                runtime.subject_keys,
                config,
                account_id=account.id,
                type_id=type_id,
                claims=claims,
                actor=ACTOR,
            )
    except Problem as exc:
        raise click.ClickException(exc.detail) from exc
    if qr_file is not None:
        qr_file.write_bytes(qr_png(created.offer_uri))
    result = created.as_dict()
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for name, value in result.items():
        click.echo(f"{name:<21} {value}")


def _issue_to_wallet(
    runtime: AttestationsRuntime,
    config: AttestationConfig,
    identifier: str,
    type_id: str,
    claims: Any,
    as_json: bool,
) -> None:
    with runtime.db.transaction() as session:
        account = _account(runtime, session, identifier)
        rows = issue_to_wallet(
            session,
            runtime.keyring,
            runtime.subject_keys,
            config,
            account_id=account.id,
            type_id=type_id,
            claims=claims,
            actor=ACTOR,
        )
        result = [
            {
                "wallet_credential": r.id,
                "credential_id": r.issued_credential_id,
                "type": r.type,
                "expires_at": r.expires_at.isoformat(),
            }
            for r in rows
        ]
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for item in result:
        click.echo(f"stored {item['credential_id']} ({item['type']}) in the built-in wallet")


@attestations_cli.command("revoke")
@click.argument("credential_id")
@click.option("--reason", default="operator", show_default=True, help="A short code.")
@click.pass_obj
def revoke(runtime: AttestationsRuntime, credential_id: str, reason: str) -> None:
    """Revoke an issued credential (its status list bit is set)."""
    try:
        with runtime.db.transaction() as session:
            row = revoke_credential(session, credential_id, reason, ACTOR)
    except Problem as exc:
        raise click.ClickException(exc.detail) from exc
    assert row.revoked_at is not None
    click.echo(f"revoked {row.id} ({row.type}) at {row.revoked_at.isoformat()}")


@attestations_cli.command("list")
@click.option("--account", "identifier", required=True, help="Account id or e-mail address.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def list_issued(runtime: AttestationsRuntime, identifier: str, as_json: bool) -> None:
    """List a resident's issued credentials (metadata only: Kluis keeps no claim values)."""
    with runtime.db.transaction() as session:
        account = _account(runtime, session, identifier)
        rows = issued_credentials(session, account.id)
        listed = [
            {
                "id": r.id,
                "type": r.type,
                "status_list": r.status_list_id,
                "status_idx": r.status_idx,
                "issued_at": r.issued_at.isoformat(),
                "expires_at": r.expires_at.isoformat(),
                "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
            }
            for r in rows
        ]
    if as_json:
        click.echo(json.dumps(listed, indent=2))
        return
    for item in listed:
        state = "revoked" if item["revoked_at"] else "valid"
        click.echo(f"{item['id']}  {item['type']:<12} {state:<8} until {item['expires_at']}")


@attestations_cli.command("purge")
@click.pass_obj
def purge(runtime: AttestationsRuntime) -> None:
    """Delete dead credential offers (a day after they expired) and expired nonces, erase
    verification results past their lifetime and delete verification sessions a day old."""
    with runtime.db.transaction() as session:
        removed = purge_expired(session)
        sessions = purge_sessions(session)
    click.echo(f"purged {removed} offer(s)")
    click.echo(f"purged {sessions} verification session(s)")
