"""Disabling and re-enabling an account, as operators do it from `kluis accounts disable|enable`
and from the console at /console/accounts alike (#16).

A disabled account cannot log in (`identity.accounts.login`), its browser sessions no longer
count (`find_browser_session` reads the status) and it gets no new attestations. Disabling also
ends what it holds elsewhere at once: every live browser session (with back-channel logout to
the platforms, as a logout does) and every grant, `offline_access` ones included, so no
refresh token outlives the decision. Both are audited in the same transaction, naming the
resident by their opaque reference only. It lives here, beside the grants, because the accounts
package sits below the OpenID provider."""

from __future__ import annotations

from typing import Protocol

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import record
from core import Database
from identity.accounts.models import Account, AccountStatus, AccountToken, TokenPurpose
from identity.accounts.service import Accounts, find_by_email, get_account, normalize_email
from identity.accounts.sessions import end_account_sessions
from identity.oidc.logout import end_session
from identity.oidc.models import Grant
from identity.oidc.provider import Provider
from identity.oidc.tokens import revoke_grant


def disable_account(session: Session, provider: Provider, account: Account, actor: str) -> bool:
    """Disable the account and end its sessions and grants; False when it already was."""
    if account.status == AccountStatus.DISABLED.value:
        return False
    account.status = AccountStatus.DISABLED.value
    ref = provider.subject_keys.reference(session, account.id)
    sessions = end_account_sessions(session, account.id)
    for sid in sessions:
        end_session(session, provider, sid, ref, actor)  # back-channel logout, its grants
    grants = list(
        session.scalars(
            select(Grant.id).where(Grant.account_id == account.id, Grant.revoked_at.is_(None))
        )
    )
    for grant_id in grants:
        revoke_grant(session, grant_id, "account_disabled")
    details = {"sessions_ended": len(sessions), "grants_revoked": len(grants)}
    record(session, "account.disabled", actor, ref, details)
    session.flush()
    return True


def enable_account(session: Session, provider: Provider, account: Account, actor: str) -> bool:
    """Undo `disable_account`: back to active, or to waiting for activation for an account
    made at the desk that has no password yet. False when it was not disabled."""
    if account.status != AccountStatus.DISABLED.value:
        return False
    waiting = account.password_hash is None and _never_activated(session, account.id)
    account.status = (AccountStatus.PENDING_ACTIVATION if waiting else AccountStatus.ACTIVE).value
    ref = provider.subject_keys.reference(session, account.id)
    record(session, "account.enabled", actor, ref, {"status": account.status})
    session.flush()
    return True


def _never_activated(session: Session, account_id: str) -> bool:
    """Whether the account was made at the desk and its activation code never used."""
    unused = session.scalar(
        select(AccountToken.token_hash).where(
            AccountToken.account_id == account_id,
            AccountToken.purpose == TokenPurpose.ACTIVATION.value,
            AccountToken.used_at.is_(None),
        )
    )
    return unused is not None


class _Runtime(Protocol):
    @property
    def db(self) -> Database: ...
    @property
    def oidc(self) -> Provider: ...
    @property
    def accounts(self) -> Accounts: ...


def _target(runtime: _Runtime, session: Session, email: str | None, account: str | None) -> Account:
    if (email is None) == (account is None):
        raise click.UsageError("give exactly one of --email or --account")
    found = (
        find_by_email(runtime.accounts, session, normalize_email(email))
        if email is not None
        else get_account(session, account or "")
    )
    if found is None:
        raise click.ClickException("no such account")
    return found


@click.command("disable")
@click.option("--email", default=None, help="The resident's e-mail address.")
@click.option("--account", default=None, help="The account id.")
@click.pass_obj
def disable_cli(runtime: _Runtime, email: str | None, account: str | None) -> None:
    """Disable an account: no login, its sessions and grants end at once (audited)."""
    with runtime.db.transaction() as session:
        found = _target(runtime, session, email, account)
        changed = disable_account(session, runtime.oidc, found, "operator:cli")
    click.echo(f"account {found.id} {'is now' if changed else 'already was'} disabled")


@click.command("enable")
@click.option("--email", default=None, help="The resident's e-mail address.")
@click.option("--account", default=None, help="The account id.")
@click.pass_obj
def enable_cli(runtime: _Runtime, email: str | None, account: str | None) -> None:
    """Re-enable a disabled account (audited)."""
    with runtime.db.transaction() as session:
        found = _target(runtime, session, email, account)
        changed = enable_account(session, runtime.oidc, found, "operator:cli")
        status = found.status
    click.echo(f"account {found.id} {'is now' if changed else 'was not disabled, still'} {status}")


ACCOUNT_STATUS_COMMANDS = (disable_cli, enable_cli)
