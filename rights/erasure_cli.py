"""`kluis accounts delete` (erasure on the resident's behalf) and `kluis erasure
list|show|handled`."""

from __future__ import annotations

import json
from typing import Any, Protocol

import click

from attestations import vouching
from audit import AuditLog
from core import Database
from identity import AccountError, Accounts, Provider, find_by_email, normalize_email
from rights.erasure import execute_erasure
from rights.erasure_replay import reapply_tombstones
from rights.errors import ErasureError
from rights.field_erasure import FIELDS, execute_field_erasure
from rights.lifecycle import erasure_deliveries, erasure_requests, record_platform_handled
from rights.models import ErasureRequest
from rights.tombstones import JournalError, TombstoneJournal

OPERATOR = "operator:cli"


class ErasureRuntime(Protocol):
    @property
    def db(self) -> Database: ...
    @property
    def accounts(self) -> Accounts: ...
    @property
    def oidc(self) -> Provider: ...
    @property
    def tombstones(self) -> TombstoneJournal: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def vouching(self) -> vouching.VouchingConfig: ...


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def _summary(request: ErasureRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "status": request.status,
        "field": request.field,
        "requested_by": request.requested_by,
        "received_at": _iso(request.received_at),
        "due_at": _iso(request.due_at),
        "executed_at": _iso(request.executed_at),
        "completed_at": _iso(request.completed_at),
        "subject_ref": request.subject_ref,
    }


@click.command("delete")
@click.option("--email", default=None, help="The resident's e-mail address.")
@click.option("--account", "account_id", default=None, help="The account id.")
@click.option("--reason", default="", help="Why (free text WITHOUT personal data).")
@click.option(
    "--field",
    type=click.Choice(list(FIELDS)),
    default=None,
    help="Erase only this field (the account stays).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def delete_account(
    runtime: ErasureRuntime,
    email: str | None,
    account_id: str | None,
    reason: str,
    field: str | None,
    yes: bool,
    as_json: bool,
) -> None:
    """Erase a resident on their behalf and tell every platform (GDPR article 17)."""
    if (email is None) == (account_id is None):
        raise click.UsageError("give exactly one of --email or --account")
    if not yes:
        what = f"this resident's {field}" if field else "this resident"
        click.confirm(f"Erase {what} permanently? This cannot be undone", abort=True)
    try:
        with runtime.db.transaction() as session:
            if email is not None:
                account = find_by_email(runtime.accounts, session, normalize_email(email))
                account_id = account.id if account is not None else None
            if account_id is None:
                raise click.ClickException("no such account")
            request = (
                execute_field_erasure(
                    session,
                    runtime.oidc,
                    account_id=account_id,
                    field=field,
                    requested_by="operator",
                    actor=OPERATOR,
                    reason=reason,
                    tombstones=runtime.tombstones,
                )
                if field
                else execute_erasure(
                    session,
                    runtime.oidc,
                    account_id=account_id,
                    requested_by="operator",
                    actor=OPERATOR,
                    reason=reason,
                    accounts=runtime.accounts,
                    tombstones=runtime.tombstones,
                    vouching_config=runtime.vouching,
                )
            )
            result = _summary(request)
            links = erasure_deliveries(session, request.id)
            result["deliveries"] = sum(1 for link in links if not link.manual)
            result["manual"] = sorted({link.client_id for link in links if link.manual})
    except (ErasureError, AccountError, JournalError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"erasure request {result['id']}: {result['status']}")
    click.echo(f"due: {result['due_at']}; platform deliveries queued: {result['deliveries']}")
    _echo_manual(result["id"], result["manual"])


def _echo_manual(request_id: str, client_ids: list[str]) -> None:
    if not client_ids:
        return
    click.echo(
        f"NOT told automatically (no events_uri): {', '.join(client_ids)}. Tell each platform "
        "yourself, then record it, for example:"
    )
    click.echo(
        f"  kluis erasure handled {request_id} --platform {client_ids[0]} "
        '--note "by e-mail to the platform\'s administrator"'
    )


@click.group("erasure")
def erasure_cli() -> None:
    """Erasure requests: their state, due date and per-platform delivery."""


@erasure_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def list_(runtime: ErasureRuntime, as_json: bool) -> None:
    """Every erasure request with its state and due date."""
    with runtime.db.transaction() as session:
        rows = [_summary(r) for r in erasure_requests(session)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        by = row["requested_by"]
        what = row["field"] or "account"
        click.echo(f"{row['id']}  {row['status']:<12} {what:<12} due {row['due_at']}  by {by}")


@erasure_cli.command("show")
@click.argument("request_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def show(runtime: ErasureRuntime, request_id: str, as_json: bool) -> None:
    """One request: state, due date and each platform's delivery state."""
    with runtime.db.transaction() as session:
        request = session.get(ErasureRequest, request_id)
        if request is None:
            raise click.ClickException("no such erasure request")
        result = _summary(request)
        result["reason"] = request.reason
        result["platforms"] = [
            {
                "client_id": d.client_id,
                "kind": d.kind,
                "delivery_id": d.delivery_id,
                "attempts": d.attempts,
                "last_status": d.last_status,
                "last_error": d.last_error,
                "acknowledged_at": _iso(d.acknowledged_at),
                "manual": d.manual,
                "handled_by": d.handled_by,
                "note": d.note,
            }
            for d in erasure_deliveries(session, request_id)
        ]
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for key in ("id", "status", "field", "requested_by", "received_at", "due_at", "completed_at"):
        click.echo(f"{key:<14} {result[key]}")
    for p in result["platforms"]:
        click.echo(f"  {p['client_id']}  {p['kind']:<20} {_platform_state(p)}")
    waiting = [p["client_id"] for p in result["platforms"] if p["manual"] and not p["handled_by"]]
    _echo_manual(result["id"], waiting)


def _platform_state(p: dict[str, Any]) -> str:
    if p["handled_by"]:
        return f"handled by {p['handled_by']} {p['acknowledged_at']}: {p['note']}"
    if p["acknowledged_at"]:
        return f"acknowledged {p['acknowledged_at']}"
    if p["manual"]:
        return "NOT told automatically: waiting for an operator"
    return f"pending (attempts {p['attempts']})"


@erasure_cli.command("reapply")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def reapply(runtime: ErasureRuntime, as_json: bool) -> None:
    """Re-apply every erasure in the tombstone journal that the database lacks: after a
    restore made with other tools (point-in-time recovery, a file copy), or to finish a
    `kluis restore` that could not. Stop every app process first."""
    try:
        tombstones = runtime.tombstones.read()
        with runtime.db.transaction() as session:
            report = reapply_tombstones(
                session,
                runtime.oidc,
                runtime.accounts,
                tombstones,
                actor=OPERATOR,
                restore={"how": "kluis erasure reapply"},
                vouching_config=runtime.vouching,
            )
            runtime.audit.checkpoint(session)
    except (JournalError, ErasureError) as exc:
        raise click.ClickException(str(exc)) from exc
    result = report.to_json()
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(
        f"tombstone journal: {result['journal_entries']} erasures, "
        f"{result['already_in_backup']} already in the database; re-applied "
        f"{result['reapplied_accounts']} account and {result['reapplied_fields']} field "
        f"erasures, {result['deliveries']} platform notices queued"
    )
    for item in result["reapplied"]:
        click.echo(f"  {item['request_id']}  {item['field'] or 'account'}")


@erasure_cli.command("handled")
@click.argument("request_id")
@click.option("--platform", "client_id", required=True, help="The platform's client id.")
@click.option(
    "--note",
    required=True,
    help="How the platform was told (free text WITHOUT personal data).",
)
@click.pass_obj
def handled(runtime: ErasureRuntime, request_id: str, client_id: str, note: str) -> None:
    """Record that a platform Kluis could not tell (no events_uri, or failing deliveries) was
    told another way; the request completes once nothing else is pending."""
    try:
        with runtime.db.transaction() as session:
            request = record_platform_handled(
                session, request_id=request_id, client_id=client_id, actor=OPERATOR, note=note
            )
            status = request.status
    except ErasureError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"erasure request {request_id}: {client_id} recorded as handled; now {status}")
