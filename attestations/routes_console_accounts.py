"""The operator console's accounts (#16): /console/accounts finds one account by its exact
e-mail address, username or id (a POST, so the address stays out of URLs and access logs;
there is no list of everyone) and creates an account for someone without e-mail (a paper
activation code, shown once, through `create_desk_account` as `kluis accounts add`);
/console/accounts/{id} shows its state, roles and attestations (type and state only) without
personal data, disables or re-enables it (`disable_account`, `enable_account`, as `kluis
accounts disable|enable`) and changes its roles (`grant_role`, `revoke_role`, as `kluis
accounts steward|operator|desk grant|revoke`). Those changes need the operator's password
again; every POST carries the CSRF token; the domain functions write the audit entries.
Access by `page_operator` alone. It lives in attestations because the page lists them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from attestations.console_pages import (
    ACCOUNTS,
    STATUS_ACTIONS,
    account_page,
    page,
    the_account,
)
from core import FormDep, check_csrf, db_session, page_language, when
from identity import (
    OPERATOR_ROLE,
    ROLES,
    AccountError,
    DeskInputError,
    NotAnOperator,
    account_state,
    confirm_again,
    create_desk_account,
    disable_account,
    enable_account,
    find_account_exactly,
    get_accounts,
    grant_role,
    operator_actor,
    page_operator,
    provider_of,
    revoke_role,
)
from keys import subject_keys_of

router = APIRouter(prefix="/console/accounts", tags=["console"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
FormStr = Annotated[str, Form(max_length=1024)]


def _find_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    context = {"errors": errors or {}, "form": form or {}}
    return page(request, "console_accounts/find.html", context, 400 if errors else 200)


@router.get("")
def accounts_page(request: Request, session: SessionDep) -> Response:
    operator = page_operator(request, session, ACCOUNTS)
    if isinstance(operator, Response):
        return operator
    return _find_page(request)


@router.post("/find")
def find(
    request: Request, session: SessionDep, identifier: FormStr = "", csrf_token: FormStr = ""
) -> Response:
    """One account by exact e-mail address, username or id; never a list."""
    check_csrf(request, {"csrf_token": csrf_token})
    operator = page_operator(request, session, ACCOUNTS)
    if isinstance(operator, Response):
        return operator
    form = {"identifier": identifier.strip()}
    if not form["identifier"]:
        return _find_page(request, errors={"identifier": "console.accounts.error.identifier"})
    found = find_account_exactly(get_accounts(request), session, form["identifier"])
    if found is None:
        errors = {"identifier": "console.accounts.error.not_found"}
        return _find_page(request, errors=errors, form=form)
    return RedirectResponse(f"{ACCOUNTS}/{found.id}", 303)


@router.post("")
def create(
    request: Request, session: SessionDep, name: FormStr = "", csrf_token: FormStr = ""
) -> Response:
    """An account for someone without e-mail, as `kluis accounts add --name …`."""
    check_csrf(request, {"csrf_token": csrf_token})
    operator = page_operator(request, session, ACCOUNTS)
    if isinstance(operator, Response):
        return operator
    accounts = get_accounts(request)
    try:
        created = create_desk_account(
            accounts,
            session,
            email=None,
            password=None,
            name=name,
            actor=operator_actor(session, accounts.subject_keys, operator),
        )
    except (DeskInputError, AccountError):
        session.rollback()
        return _find_page(request, errors={"name": "console.accounts.error.name"})
    session.commit()
    expires = created.activation_expires_at
    context = {
        "account_id": created.account_id,
        "handle": created.handle,
        "code": created.activation_code,
        "until": when(expires, lang=page_language(request)).text if expires else "",
        "activate_url": request.app.state.settings.issuer + "/activate",
    }
    return page(request, "console_accounts/created.html", context, 201)


@router.get("/{account_id}")
def show(request: Request, session: SessionDep, account_id: str, done: str = "") -> Response:
    operator = page_operator(request, session, f"{ACCOUNTS}/{account_id}")
    if isinstance(operator, Response):
        return operator
    return account_page(request, session, operator, the_account(session, account_id), done=done)


@router.get("/{account_id}/{action}")
def confirm(request: Request, session: SessionDep, account_id: str, action: str) -> Response:
    """The form of `disable`, `enable` or `roles`: the change and the password again."""
    operator = page_operator(request, session, f"{ACCOUNTS}/{account_id}/{action}")
    if isinstance(operator, Response):
        return operator
    account = the_account(session, account_id)
    if action not in (*STATUS_ACTIONS, "roles"):
        raise NotAnOperator()
    return account_page(request, session, operator, account, action=action)


@router.post("/{account_id}/{action}")
def change_status(
    request: Request,
    session: SessionDep,
    account_id: str,
    action: str,
    body: FormDep,
) -> Response:
    """Disable or re-enable the account, or set its roles."""
    form = body or {}
    check_csrf(request, form)
    operator = page_operator(request, session, f"{ACCOUNTS}/{account_id}")
    if isinstance(operator, Response):
        return operator
    account = the_account(session, account_id)
    if action not in (*STATUS_ACTIONS, "roles"):
        raise NotAnOperator()
    wanted = {role for role in ROLES if form.get(f"role-{role}") == "yes"}
    if account.id == operator and (
        action == "disable" or (action == "roles" and OPERATOR_ROLE not in wanted)
    ):
        errors = {"form": "console.accounts.error.self"}
        return account_page(request, session, operator, account, action=action, errors=errors)
    error = confirm_again(request, session, form.get("password", "")[:1024])
    if error is not None:
        return account_page(request, session, operator, account, action=action, error=error)
    subject_keys = subject_keys_of(request)
    actor = operator_actor(session, subject_keys, operator)
    if action == "disable":
        disable_account(session, provider_of(request), account, actor)
        done = "disabled"
    elif action == "enable":
        enable_account(session, provider_of(request), account, actor)
        done = "enabled"
    else:
        held = set(account_state(session, account).roles)
        for role in sorted(wanted - held):
            grant_role(session, subject_keys, account.id, role, actor)
        for role in sorted(held - wanted):
            revoke_role(session, subject_keys, account.id, role, actor)
        done = "roles"
    session.commit()
    return RedirectResponse(f"{ACCOUNTS}/{account.id}?done={done}", 303)
