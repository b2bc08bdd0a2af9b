"""The resident's own account page (`GET /account`): who they are here, whether their e-mail
address is confirmed, and the METADATA of their credential offers and issued attestations
(read through the attestations package's public functions). Read-only: the only form on it
logs out (POST with CSRF)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from attestations import (
    TYPES,
    credentials_for_account,
    held_credentials,
    municipality_of,
    offers_for_account,
)
from core import i18n, render
from identity import (
    DESK,
    OPERATOR_ROLE,
    AccountsDep,
    SessionDep,
    current_session,
    get_account,
    has_role,
    own_profile,
    see_other,
)

router = APIRouter(tags=["accounts"], include_in_schema=False)

ACCOUNT_PATH = "/account"


def login_redirect(request: Request) -> Response:
    query = {"return_to": ACCOUNT_PATH}
    if (lang := request.query_params.get("lang")) in i18n.SUPPORTED:
        query["lang"] = str(lang)
    return see_other("/login?" + urlencode(query, safe="/"))


@router.get(ACCOUNT_PATH)
def account_page(request: Request, session: SessionDep, accounts: AccountsDep) -> Response:
    browser = current_session(request, session)
    account = get_account(session, browser.account_id) if browser is not None else None
    if account is None:
        return login_redirect(request)
    context = {
        "profile": own_profile(session, accounts.subject_keys, account),
        "offers": offers_for_account(session, account.id),
        "credentials": credentials_for_account(session, account.id),
        "wallet": held_credentials(session, account.id),
        "wallet_status": request.query_params.get("wallet"),
        "wrong_offer": request.query_params.get("offer", ""),
        "type_names": {type_id: ctype.name for type_id, ctype in TYPES.items()},
        "when": i18n.when,
        "municipality": municipality_of(request) is not None,
        "desk": has_role(session, account.id, DESK),
        "operator": has_role(session, account.id, OPERATOR_ROLE),
    }
    response = render(request, "rights/account.html", context)
    response.headers["Cache-Control"] = "no-store"  # personal data: not for shared caches
    return response
