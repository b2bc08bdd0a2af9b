"""The desk's pages (`attestations.desk`): for operators with the `desk` role only (anyone
else gets the 404 of an unknown path). Issue a proof after checking an ID document in person,
or create an account for someone without e-mail. Thin: check the role and CSRF, call one domain
function, commit, render."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from attestations import (
    messages_desk,  # noqa: F401 (registers the page texts)
    vouching,
)
from attestations.desk import DeskRefused, desk_actor, desk_operator, issue_at_desk
from attestations.desk_page import NO_STORE, render_desk
from attestations.types import TYPES
from attestations.web import attestation_config
from core import FormDep, check_csrf, i18n, page_language, render
from identity import (
    AccountError,
    DeskInputError,
    SessionDep,
    create_desk_account,
    current_session,
    get_accounts,
)

router = APIRouter(tags=["desk"], include_in_schema=False)


def _address_hasher(request: Request) -> vouching.AddressHasher:
    config: vouching.VouchingConfig = request.app.state.runtime.vouching
    return vouching.AddressHasher(config.address_key)


def _operator(request: Request, session: SessionDep) -> str:
    browser = current_session(request, session)
    return desk_operator(session, browser.account_id if browser is not None else None)


@router.get("/desk")
def desk(request: Request, session: SessionDep) -> Response:
    _operator(request, session)
    return render_desk(request)


@router.post("/desk/offers")
def offer(request: Request, session: SessionDep, body: FormDep) -> Response:
    form = body or {}
    check_csrf(request, form)
    operator_id = _operator(request, session)
    type_id = form.get("type", "")
    values = {**form, "resident": form.get(f"{type_id}-resident", "")}
    try:
        issued = issue_at_desk(
            session,
            get_accounts(request),
            attestation_config(request),
            operator_id=operator_id,
            resident=values["resident"],
            type_id=type_id,
            form=form,
            document_checked=form.get("document_checked") == "yes",
            address_hasher=_address_hasher(request),
        )
    except DeskRefused as exc:
        return render_desk(request, type_id, exc.errors, values, status_code=400)
    session.commit()
    lang = page_language(request)
    context = {
        "type_name": TYPES[type_id].name.get(lang) or type_id,
        "handle": issued.resident.handle,
        "qr": issued.offer.credential_offer_uri + "/qr.svg",
        "tx_code": issued.offer.tx_code,
        "expires": i18n.when(issued.offer.expires_at, lang=lang).text,
    }
    response = render(request, "desk/offer.html", context)
    response.headers.update(NO_STORE)
    return response


@router.post("/desk/accounts")
def account(request: Request, session: SessionDep, body: FormDep) -> Response:
    form = body or {}
    check_csrf(request, form)
    operator_id = _operator(request, session)
    accounts = get_accounts(request)
    try:
        created = create_desk_account(
            accounts,
            session,
            email=None,
            password=None,
            name=form.get("name", ""),
            actor=desk_actor(session, accounts.subject_keys, operator_id),
        )
    except (DeskInputError, AccountError):
        return render_desk(request, "account", {"name": "desk.error.name"}, form, status_code=400)
    session.commit()
    lang = page_language(request)
    expires = created.activation_expires_at
    context = {
        "handle": created.handle,
        "code": created.activation_code,
        "until": i18n.when(expires, lang=lang).text if expires else "",
        "activate_url": attestation_config(request).issuer + "/activate",
    }
    response = render(request, "desk/account.html", context)
    response.headers.update(NO_STORE)
    return response
