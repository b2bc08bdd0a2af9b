"""Forgotten passwords: a single-use, short-lived link by mail; using it sets a new password,
confirms the address (the link proved access to the mailbox) and ends every session of the
account, so whoever knew the old password is logged out everywhere."""

from __future__ import annotations

from sqlalchemy.orm import Session

from audit import record
from identity.accounts import mails, tokens
from identity.accounts.errors import InvalidToken
from identity.accounts.models import AccountStatus, TokenPurpose
from identity.accounts.passwords import check_policy
from identity.accounts.service import (
    Accounts,
    account_email,
    find_by_email,
    get_account,
    normalize_email,
)
from identity.accounts.sessions import end_account_sessions


def request_password_reset(accounts: Accounts, session: Session, *, email: str, lang: str) -> None:
    """Mail a reset link if the address belongs to a usable account; otherwise do nothing.
    The caller shows the same answer either way. Raises `InvalidEmail` for what is no e-mail
    address at all (which says nothing about any account)."""
    email = normalize_email(email)
    account = find_by_email(accounts, session, email)
    if account is None or account.status == AccountStatus.DISABLED.value:
        return
    if accounts.recently_mailed(session, account.id, TokenPurpose.PASSWORD_RESET):
        return  # the link sent a moment ago still works
    token = tokens.issue(session, account.id, TokenPurpose.PASSWORD_RESET, accounts.reset_ttl)
    minutes = int(accounts.reset_ttl.total_seconds() // 60)
    link = accounts.link("/password/reset", token)
    mails.send_password_reset(accounts.mailer, email, link, minutes, lang)
    record(
        session, "password.reset_requested", "resident", accounts.subject_ref(session, account.id)
    )


def reset_token_is_valid(session: Session, token: str) -> bool:
    return tokens.peek(session, TokenPurpose.PASSWORD_RESET, token) is not None


def reset_password(accounts: Accounts, session: Session, *, token: str, password: str) -> None:
    """Set a new password with a reset link. The policy is checked before the token is used,
    so a rejected password does not burn the link."""
    account_id = tokens.peek(session, TokenPurpose.PASSWORD_RESET, token)
    account = get_account(session, account_id) if account_id else None
    if account is None or account.status == AccountStatus.DISABLED.value:
        raise InvalidToken()
    email = account_email(session, accounts.subject_keys, account)
    check_policy(password, email=email)
    tokens.consume(session, TokenPurpose.PASSWORD_RESET, token)  # the atomic, deciding step
    account.password_hash = accounts.passwords.hash(password)
    account.status = AccountStatus.ACTIVE.value
    account.email_verified = True
    ended = end_account_sessions(session, account.id)
    for sid in ended:
        for hook in accounts.session_end_hooks:
            hook(session, sid, account.id)
    if email is not None:
        accounts.limiter.clear_account(session, email)  # the owner may log in at once
    ref = accounts.subject_ref(session, account.id)
    record(session, "password.reset", "resident", ref, {"sessions_ended": len(ended)})
    session.flush()
