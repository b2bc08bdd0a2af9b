"""What the operator console's accounts and attestations pages share (#16): the page shell of
the section, the account looked up by id (the console's 404 when unknown), its attestations by
type and state (never their values) and the account page with or without one of its forms.
The routers (routes_console_accounts, routes_console_attestations) stay thin."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from attestations import messages_console, messages_desk  # noqa: F401 (registers the texts)
from attestations.overview import OfferState, offers_for_account
from attestations.statuslist import issued_credentials
from attestations.types import TYPES
from core import utcnow
from identity import (
    ROLES,
    Account,
    AccountError,
    LoginThrottled,
    NotAnOperator,
    account_state,
    console_page,
    reconfirm_context,
)

ACCOUNTS = "/console/accounts"
DONE = ("disabled", "enabled", "roles", "revoked")
STATUS_ACTIONS = ("disable", "enable")


def page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    return console_page(request, template, {"section": "accounts", **context}, status_code)


def the_account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id) if len(account_id) <= 64 else None
    if account is None:
        raise NotAnOperator()  # the same 404 as an unknown path
    return account


def attestation_lines(session: Session, account_id: str) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "id": row.id,
            "type": row.type,
            "state": "revoked"
            if row.revoked_at
            else "expired"
            if row.expires_at <= now
            else "valid",
            "issued_at": row.issued_at,
            "expires_at": row.expires_at,
        }
        for row in issued_credentials(session, account_id)
    ]


def account_page(
    request: Request,
    session: Session,
    operator: str,
    account: Account,
    *,
    action: str = "",
    error: AccountError | None = None,
    errors: dict[str, str] | None = None,
    done: str = "",
    extra: dict[str, Any] | None = None,
) -> Response:
    """The account page, or (with `action`) the page confirming one of its changes."""
    reconfirming, status = reconfirm_context(session, operator, error)
    if errors:
        reconfirming["errors"] = {**reconfirming["errors"], **errors}
        status = 400
    context = {
        "account": account_state(session, account),
        "attestations": attestation_lines(session, account.id),
        "offers": [
            o for o in offers_for_account(session, account.id) if o.state == OfferState.OPEN
        ],
        "type_names": {t: spec.name for t, spec in TYPES.items()},
        "roles": ROLES,
        "action": action,
        "done": done if done in DONE else "",
        **reconfirming,
        **(extra or {}),
    }
    confirms = action in (*STATUS_ACTIONS, "revoke")
    template = f"console_accounts/{'confirm' if confirms else action or 'account'}.html"
    response = page(request, template, context, status)
    if isinstance(error, LoginThrottled):
        response.headers["Retry-After"] = str(error.retry_after)
    return response
