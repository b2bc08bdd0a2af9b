"""HTTP surface of the attestation issuer: a thin router over `issuance`, `credential`,
`statuslist` and `metadata`. OAuth-style errors become JSON in one place (service.app)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from attestations.credential import issue_credentials
from attestations.issuance import (
    OFFER_SCHEME,
    live_offer_by_ref,
    new_nonce,
    offer_document,
)
from attestations.metadata import (
    authorization_server_metadata,
    credential_issuer_metadata,
    jwt_vc_issuer_metadata,
    type_metadata,
)
from attestations.qr import qr_png, qr_svg
from attestations.statuslist import MEDIA_TYPE, status_list_token
from attestations.types import TYPES
from attestations.web import attestation_config
from core import JsonBody, NotFound, db_session, openapi
from keys import keyring_of, subject_keys_of

router = APIRouter(tags=["attestations"])
DbSession = Annotated[Session, Depends(db_session)]
OAUTH_PATHS = {"/nonce", "/credential"}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
METADATA_CACHE = {"Cache-Control": "public, max-age=300"}


@router.get("/.well-known/openid-credential-issuer", name="credential_issuer_metadata")
def issuer_metadata(request: Request) -> JSONResponse:
    return JSONResponse(
        credential_issuer_metadata(attestation_config(request)), headers=METADATA_CACHE
    )


@router.get("/.well-known/oauth-authorization-server", name="vci_authorization_server")
def as_metadata(request: Request) -> JSONResponse:
    return JSONResponse(
        authorization_server_metadata(attestation_config(request)), headers=METADATA_CACHE
    )


@router.get("/.well-known/jwt-vc-issuer", name="jwt_vc_issuer_metadata")
def vc_issuer_metadata(request: Request) -> JSONResponse:
    return JSONResponse(jwt_vc_issuer_metadata(attestation_config(request)), headers=METADATA_CACHE)


@router.get("/vct/{type_id}", name="type_metadata")
def vct(request: Request, type_id: str) -> JSONResponse:
    ctype = TYPES.get(type_id)
    if ctype is None:
        raise NotFound("No such credential type.")
    return JSONResponse(type_metadata(attestation_config(request), ctype), headers=METADATA_CACHE)


@router.get("/status/{list_id}", name="status_list")
def status_list(request: Request, list_id: str, session: DbSession) -> Response:
    config = attestation_config(request)
    token = status_list_token(session, keyring_of(request), config, list_id)
    ttl = int(config.status_list_ttl.total_seconds())
    return Response(
        token,
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": f"public, max-age={ttl}", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/credential-offer/{ref}", name="credential_offer")
def credential_offer(request: Request, ref: str, session: DbSession) -> JSONResponse:
    body = offer_document(session, subject_keys_of(request), attestation_config(request), ref)
    return JSONResponse(body, headers=NO_STORE)


def _offer_uri(request: Request, session: Session, ref: str) -> str:
    config = attestation_config(request)
    live_offer_by_ref(session, config, ref)
    return f"{OFFER_SCHEME}?credential_offer_uri={quote(config.offer_uri(ref), safe='')}"


@router.get("/credential-offer/{ref}/qr.png", name="credential_offer_qr_png")
def credential_offer_png(request: Request, ref: str, session: DbSession) -> Response:
    return Response(
        qr_png(_offer_uri(request, session, ref)), media_type="image/png", headers=NO_STORE
    )


@router.get("/credential-offer/{ref}/qr.svg", name="credential_offer_qr_svg")
def credential_offer_svg(request: Request, ref: str, session: DbSession) -> Response:
    svg = qr_svg(_offer_uri(request, session, ref))
    return Response(svg, media_type="image/svg+xml", headers=NO_STORE)


@router.post("/nonce", name="vci_nonce")
def nonce(request: Request, session: DbSession) -> JSONResponse:
    c_nonce = new_nonce(session, attestation_config(request))
    session.commit()
    return JSONResponse({"c_nonce": c_nonce}, headers=NO_STORE)


@router.post(
    "/credential",
    name="vci_credential",
    openapi_extra=openapi.json_body(
        {
            "credential_configuration_id": None,
            "credential_identifier": None,
            "proofs": {
                "type": "object",
                "properties": {"jwt": {"type": "array", "items": {"type": "string"}}},
            },
        }
    ),
)
def credential(request: Request, session: DbSession, body: JsonBody) -> JSONResponse:
    """Sync (thread pool): the body is read by the async dependency, the database work must
    not block the event loop."""
    authorization = request.headers.get("authorization")
    response = issue_credentials(
        session,
        keyring_of(request),
        subject_keys_of(request),
        attestation_config(request),
        authorization=authorization,
        body=body,
    )
    session.commit()
    return JSONResponse(response, headers=NO_STORE)
