"""The operator console's attestations of one account (#16): /console/accounts/{id}/
attestations/offer offers one to the resident's wallet (`create_offer`, as `kluis
attestations offer`: the QR code and the transaction code shown once), and
/console/accounts/{id}/attestations/{credential}/revoke revokes one through its status list
(`revoke_credential`, as `kluis attestations revoke`). Both need the operator's password
again and the CSRF token; the domain functions write the audit entries (types and ids only,
never claim values). The list itself is on the account's page (routes_console_accounts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from attestations.console_pages import ACCOUNTS, account_page, page, the_account
from attestations.errors import AccountNotEligible, InvalidClaims
from attestations.issuance import create_offer
from attestations.models import IssuedCredential
from attestations.statuslist import revoke_credential
from attestations.types import (
    MAX_NAME_LENGTH,
    MUNICIPALITY_CODE,
    RESIDENCE_SOURCES,
    TYPES,
    VERIFICATIONS,
    issuance_date,
    normalize_postcode,
)
from attestations.web import attestation_config
from core import FormDep, check_csrf, db_session, page_language, utcnow, when
from identity import (
    AccountError,
    AccountStatus,
    NotAnOperator,
    confirm_again,
    operator_actor,
    page_operator,
)
from keys import subject_keys_of

router = APIRouter(prefix="/console/accounts", tags=["console"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
FormStr = Annotated[str, Form(max_length=1024)]
OFFER_TYPES = ("postcode", "age", "real_person")
# the form's fields of each type: (name, required, the values it may take or None)
FIELDS: dict[str, tuple[tuple[str, tuple[str, ...] | None], ...]] = {
    "postcode": (
        ("postcode", None),
        ("municipality_code", None),
        ("municipality_name", None),
        ("residence_source", RESIDENCE_SOURCES),
    ),
    "age": (("birth_date", None),),
    "real_person": (("verification", VERIFICATIONS),),
}
FIELD_ERRORS = {  # a field's own check, beyond being filled in; its message when it fails
    "postcode": "console.offer.error.postcode",
    "municipality_code": "console.offer.error.municipality_code",
    "municipality_name": "console.offer.error.municipality_name",
    "birth_date": "console.offer.error.age",
}


def _field_is_valid(name: str, value: str, today: dt.date) -> bool:
    """The type's own rule for one field (attestations.types), so that every field's error
    can be named at once and beside that field."""
    try:
        if name == "postcode":
            normalize_postcode(value)
        elif name == "municipality_code":
            return MUNICIPALITY_CODE.match(value.upper()) is not None
        elif name == "municipality_name":
            return len(value) <= MAX_NAME_LENGTH
        elif name == "birth_date":
            TYPES["age"].claims_from({"birth_date": value}, today)
    except InvalidClaims:
        return False
    return True


def offer_claims(
    form: Mapping[str, str], today: dt.date
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The type, its `--claims` object from the form, and the form's errors by field: every
    field's at once, each checked by the type's own rules, so that the password is asked
    only for claims that will be accepted (a typo costs no login attempt)."""
    type_id = form.get("type", "")
    if type_id not in OFFER_TYPES:
        return type_id, {}, {"type": "console.offer.error.type"}
    values = {name: form.get(name, "").strip() for name, _ in FIELDS[type_id]}
    errors = {}
    for name, allowed in FIELDS[type_id]:
        if allowed is not None and values[name] not in allowed:
            errors[name] = "console.offer.error.choose"
        elif not values[name]:
            errors[name] = "console.offer.error.required"
        elif name in FIELD_ERRORS and not _field_is_valid(name, values[name], today):
            errors[name] = FIELD_ERRORS[name]
    if type_id == "postcode":
        municipality = {
            "code": values["municipality_code"].upper(),
            "name": values["municipality_name"],
        }
        claims: dict[str, Any] = {
            "postcode": values["postcode"],
            "municipality": municipality,
            "residence_source": values["residence_source"],
        }
    elif type_id == "age":
        claims = {"birth_date": values["birth_date"]}
    else:
        claims = {"verification": values["verification"]}
    if not errors:
        try:  # the whole object too, as create_offer will check it
            TYPES[type_id].claims_from(claims, today)
        except InvalidClaims:
            errors["form"] = "console.offer.error.claims"
    return type_id, claims, errors


def _offer_page(
    request: Request,
    session: Session,
    operator: str,
    account_id: str,
    *,
    form: Mapping[str, str] | None = None,
    error: AccountError | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    kept = {k: v for k, v in (form or {}).items() if k not in ("password", "csrf_token")}
    extra = {
        "form": kept,
        "offer_types": OFFER_TYPES,
        "sources": RESIDENCE_SOURCES,
        "verifications": VERIFICATIONS,
    }
    account = the_account(session, account_id)
    return account_page(
        request, session, operator, account, action="offer", error=error, errors=errors, extra=extra
    )


@router.get("/{account_id}/attestations/offer")
def offer_form(request: Request, session: SessionDep, account_id: str) -> Response:
    operator = page_operator(request, session, f"{ACCOUNTS}/{account_id}/attestations/offer")
    if isinstance(operator, Response):
        return operator
    return _offer_page(request, session, operator, account_id, form={"type": ""})


@router.post("/{account_id}/attestations/offer")
def offer(request: Request, session: SessionDep, account_id: str, body: FormDep) -> Response:
    """Offer an attestation to the resident's wallet, as `kluis attestations offer`."""
    form = {k: v[:1024] for k, v in (body or {}).items()}
    check_csrf(request, form)
    operator = page_operator(request, session, f"{ACCOUNTS}/{account_id}")
    if isinstance(operator, Response):
        return operator
    account = the_account(session, account_id)
    type_id, claims, errors = offer_claims(form, issuance_date(utcnow()))
    if account.status == AccountStatus.DISABLED.value:
        errors["form"] = "console.offer.error.disabled"
    if errors:  # before the password: a typo costs no login attempt
        return _offer_page(request, session, operator, account_id, form=form, errors=errors)
    error = confirm_again(request, session, form.get("password", ""))
    if error is not None:
        return _offer_page(request, session, operator, account_id, form=form, error=error)
    subject_keys = subject_keys_of(request)
    try:
        created = create_offer(
            session,
            subject_keys,
            attestation_config(request),
            account_id=account.id,
            type_id=type_id,
            claims=claims,
            actor=operator_actor(session, subject_keys, operator),
        )
    except (InvalidClaims, AccountNotEligible) as exc:
        session.rollback()  # the offer only: the password's check was committed by then
        key = "disabled" if isinstance(exc, AccountNotEligible) else "claims"
        errors = {"form": f"console.offer.error.{key}"}
        return _offer_page(request, session, operator, account_id, form=form, errors=errors)
    session.commit()
    lang = page_language(request)
    context = {
        "account_id": account.id,
        "handle": account.handle,
        "type_name": TYPES[type_id].name.get(lang) or type_id,
        "qr": created.credential_offer_uri + "/qr.svg",
        "offer_uri": created.offer_uri,
        "tx_code": created.tx_code,
        "expires": when(created.expires_at, lang=lang).text,
    }
    return page(request, "console_accounts/offered.html", context, 201)


def _credential(session: Session, account_id: str, credential_id: str) -> IssuedCredential:
    row = session.get(IssuedCredential, credential_id) if len(credential_id) <= 64 else None
    if row is None or row.account_id != account_id:
        raise NotAnOperator()
    return row


def _revoke_page(
    request: Request,
    session: Session,
    operator: str,
    account_id: str,
    row: IssuedCredential,
    error: AccountError | None = None,
) -> Response:
    extra = {"credential": {"id": row.id, "type": row.type}}
    account = the_account(session, account_id)
    return account_page(
        request, session, operator, account, action="revoke", error=error, extra=extra
    )


@router.get("/{account_id}/attestations/{credential_id}/revoke")
def revoke_form(
    request: Request, session: SessionDep, account_id: str, credential_id: str
) -> Response:
    path = f"{ACCOUNTS}/{account_id}/attestations/{credential_id}/revoke"
    operator = page_operator(request, session, path)
    if isinstance(operator, Response):
        return operator
    row = _credential(session, account_id, credential_id)
    return _revoke_page(request, session, operator, account_id, row)


@router.post("/{account_id}/attestations/{credential_id}/revoke")
def revoke(
    request: Request,
    session: SessionDep,
    account_id: str,
    credential_id: str,
    password: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    """Revoke the attestation (its status list bit), as `kluis attestations revoke`."""
    check_csrf(request, {"csrf_token": csrf_token})
    operator = page_operator(request, session, f"{ACCOUNTS}/{account_id}")
    if isinstance(operator, Response):
        return operator
    row = _credential(session, account_id, credential_id)
    error = confirm_again(request, session, password)
    if error is not None:
        return _revoke_page(request, session, operator, account_id, row, error)
    subject_keys = subject_keys_of(request)
    revoke_credential(session, row.id, "operator", operator_actor(session, subject_keys, operator))
    session.commit()
    return RedirectResponse(f"{ACCOUNTS}/{account_id}?done=revoked", 303)
