"""`kluis vouching …`: seed vouchers, open reports of fake profiles, a steward's decision, and
the settle the background worker runs hourly. Accounts are named on the command line by e-mail
address or user name, as other account commands do; the output names them only by user name
or opaque audit reference, never by e-mail address or name. The domain audits every action."""

from __future__ import annotations

import json
from typing import Any, Protocol

import click
from sqlalchemy.orm import Session

from attestations import vouching
from core import Database, Problem
from identity import (
    STEWARD,
    AccountError,
    Accounts,
    Provider,
    find_by_identifier,
    get_account,
    has_role,
    normalize_email,
)
from rights.vouching_mail import owed_mails, send_owed_mails
from rights.vouching_signals import settle_vouching
from rights.vouching_steward import decide_report, reference, report_views

OPERATOR = "operator:cli"


class VouchingRuntime(Protocol):
    @property
    def db(self) -> Database: ...
    @property
    def accounts(self) -> Accounts: ...
    @property
    def oidc(self) -> Provider: ...
    @property
    def vouching(self) -> vouching.VouchingConfig: ...


def find_account(runtime: VouchingRuntime, session: Session, identifier: str) -> str:
    """The account an e-mail address or user name names (ClickException if none)."""
    text = identifier.strip()
    try:
        wanted = normalize_email(text) if "@" in text else text
    except AccountError:
        raise click.ClickException("no such account") from None
    account = find_by_identifier(runtime.accounts, session, wanted)
    if account is None:
        raise click.ClickException("no such account")
    return account.id


def _echo(result: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        for line in lines:
            click.echo(line)


@click.group("vouching")
def vouching_cli() -> None:
    """Peer vouching: seed vouchers, reports of fake profiles, settling the graph."""


@vouching_cli.group("seeds")
def seeds() -> None:
    """Seed vouchers (desk staff, community hosts): they may vouch without a real-person
    proof of their own, to start a neighbourhood."""


@seeds.command("add")
@click.argument("account")
@click.pass_obj
def seeds_add(runtime: VouchingRuntime, account: str) -> None:
    """Appoint ACCOUNT (e-mail address or user name) as a seed voucher."""
    try:
        with runtime.db.transaction() as session:
            account_id = find_account(runtime, session, account)
            changed = vouching.appoint_seed(
                session, runtime.accounts.subject_keys, account_id=account_id, actor=OPERATOR
            )
            ref = reference(session, runtime.accounts.subject_keys, account_id)
    except Problem as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"{ref} {'is now' if changed else 'already was'} a seed voucher")


@seeds.command("remove")
@click.argument("account")
@click.pass_obj
def seeds_remove(runtime: VouchingRuntime, account: str) -> None:
    """End ACCOUNT's seed appointment; the confirmations it gave as a seed keep counting."""
    with runtime.db.transaction() as session:
        account_id = find_account(runtime, session, account)
        changed = vouching.remove_seed(
            session, runtime.accounts.subject_keys, account_id=account_id, actor=OPERATOR
        )
        ref = reference(session, runtime.accounts.subject_keys, account_id)
    click.echo(f"{ref} {'is no longer' if changed else 'was not'} a seed voucher")


@seeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def seeds_list(runtime: VouchingRuntime, as_json: bool) -> None:
    """The current seed vouchers: user name, audit reference, appointed at."""
    with runtime.db.transaction() as session:
        rows = []
        for account_id, at in vouching.seed_accounts(session):
            account = get_account(session, account_id)
            rows.append(
                {
                    "username": account.handle if account is not None else None,
                    "subject_ref": reference(session, runtime.accounts.subject_keys, account_id),
                    "appointed_at": at.isoformat(),
                }
            )
    lines = [f"{r['username']}  {r['subject_ref']}  since {r['appointed_at']}" for r in rows]
    _echo(rows, as_json, lines or ["no seed vouchers"])


@vouching_cli.command("reports")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def reports(runtime: VouchingRuntime, as_json: bool) -> None:
    """Open reports of fake profiles, one line per reported account (longest waiting first):
    the report to decide, the account's audit reference, how many reports, confirmations it
    gave and got, and whether it holds a real-person proof."""
    with runtime.db.transaction() as session:
        rows = [view.to_json() for view in report_views(session, runtime.accounts.subject_keys)]
    lines = [
        f"{r['report_id']}  {r['subject_ref']}  reports {r['reports']}  "
        f"since {r['first_at']}  gave {r['gave']}  got {r['got']}  "
        f"real_person {'yes' if r['real_person'] else 'no'}"
        for r in rows
    ]
    _echo(rows, as_json, lines or ["no open reports"])


@vouching_cli.command("decide")
@click.argument("report_id")
@click.option("--fake", "decision", flag_value="fake", help="The profile is fake.")
@click.option("--dismiss", "decision", flag_value="dismiss", help="The reports are unfounded.")
@click.option(
    "--steward",
    required=True,
    help="The steward deciding (e-mail address or user name of an account with the role).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def decide(
    runtime: VouchingRuntime, report_id: str, decision: str | None, steward: str, as_json: bool
) -> None:
    """Decide REPORT_ID (and every other open report on the same account): --fake revokes the
    account's proofs, withdraws the confirmations it gave, suspends its vouchers and unwinds
    what rested on it, telling the platforms; --dismiss changes nothing else."""
    if decision is None:
        raise click.UsageError("give --fake or --dismiss")
    try:
        with runtime.db.transaction() as session:
            steward_id = find_account(runtime, session, steward)
            if not has_role(session, steward_id, STEWARD):
                raise click.ClickException("that account does not hold the steward role")
            view = decide_report(
                session,
                runtime.oidc,
                runtime.vouching,
                report_id=report_id,
                steward_id=steward_id,
                fake=decision == "fake",
                mailer=runtime.accounts.mailer,
            )
    except vouching.ReportNotFound:
        raise click.ClickException("no such open report") from None
    except vouching.ReportRefused as exc:
        raise click.ClickException(exc.detail) from None
    result = view.to_json()
    lines = [f"report {report_id}: {decision} ({view.reports} report(s) on {view.subject_ref})"]
    if view.fake:
        lines += [
            f"proofs revoked: {view.credentials_revoked}; confirmations withdrawn: "
            f"{view.withdrawn}; vouchers suspended: {len(view.suspended)}",
            f"peer proofs lapsed: {view.lapsed}; residents who lost real_person: "
            f"{len(view.lost_real_person)}; platform events queued: {view.platform_events}",
            *(f"  suspended: {ref}" for ref in view.suspended),
            *(f"  lost real_person: {ref}" for ref in view.lost_real_person),
        ]
    _echo(result, as_json, lines)


@vouching_cli.command("settle")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def settle(runtime: VouchingRuntime, as_json: bool) -> None:
    """Re-judge every peer real-person proof now (the background worker does this every
    KLUIS_VOUCHING_SETTLE_INTERVAL seconds): those no longer backed by enough independent
    confirmations, or past the peer validity, lapse, and the platforms are told."""
    with runtime.db.session() as session:  # the settle commits, batch by batch
        outcome, signals = settle_vouching(
            session,
            runtime.oidc,
            runtime.vouching,
            actor=OPERATOR,
            mailer=runtime.accounts.mailer,
        )
        lost = sorted(
            {
                reference(session, runtime.accounts.subject_keys, lapse.account_id)
                for lapse in outcome.lapsed
                if lapse.lost_real_person
            }
        )
        session.commit()
    result = {"lapsed": len(outcome.lapsed), "lost_real_person": lost}
    result["platform_events"] = signals.queued
    lines = [
        f"peer proofs lapsed: {len(outcome.lapsed)}; residents who lost real_person: "
        f"{len(lost)}; platform events queued: {signals.queued}",
        *(f"  lost real_person: {ref}" for ref in lost),
    ]
    _echo(result, as_json, lines)


@vouching_cli.command("mails")
@click.option(
    "--send-now", is_flag=True, help="Try every owed e-mail now (once the mail server is back)."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def mails(runtime: VouchingRuntime, send_now: bool, as_json: bool) -> None:
    """The e-mails owed to residents whose peer proof ended, which the mail server refused:
    how many, when the background worker tries the next. Counts only, no addresses."""
    sent = None
    if send_now:
        keys, issuer = runtime.accounts.subject_keys, runtime.oidc.config.issuer
        sent = send_owed_mails(runtime.db, runtime.accounts.mailer, keys, issuer, all_owed=True)
    with runtime.db.transaction() as session:
        result: dict[str, Any] = owed_mails(session)
    lines = [
        f"lapse e-mails owed: {result['owed']}"
        + (
            f"; next try {result['next_try_at']}; most tries so far {result['most_tries']}"
            if result["owed"]
            else ""
        )
    ]
    if sent is not None:
        result["sent"] = sent
        lines.insert(0, f"sent now: {sent}")
    _echo(result, as_json, lines)
