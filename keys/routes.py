"""JWKS endpoint (RFC 7517): the public halves of every published, active and retired key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from core import db_session
from keys.web import keyring_of

router = APIRouter(tags=["keys"])

# Relying parties may cache the JWKS this long; a rotation's publish delay must exceed it.
JWKS_MAX_AGE_SECONDS = 300


@router.get("/jwks.json", name="jwks")
def jwks(request: Request, session: Annotated[Session, Depends(db_session)]) -> JSONResponse:
    return JSONResponse(
        keyring_of(request).jwks(session),
        media_type="application/jwk-set+json",
        headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE_SECONDS}"},
    )
