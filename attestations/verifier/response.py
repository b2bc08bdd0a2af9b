"""The Response URI (OpenID4VP 1.0 §8.2 `direct_post`): the wallet posts `vp_token` and `state`.

Checks, in order (each raises `PresentationRejected`, nothing is stored on failure):

1. `state` names an open, unexpired session (one response per session, §14.1).
2. An Authorization Error Response (`error`) ends the session as cancelled.
3. `vp_token` is a JSON object keyed by credential query ids, one presentation per query
   unless `multiple` (§8.1), covering the query's credential sets (§6.4.2).
4. Each presentation comes from a trusted issuer (Kluis itself: `verify_vc`; an issuer the
   operator configured: `trust.verify_external`) and passes its signature, validity, the
   Token Status List, and key binding to this session's `nonce` with the
   Client Identifier as `aud` and a fresh `iat` (§14.1.2, RFC 9901 §7.3).
5. The disclosed claims cover the query (§6.4.1). Claims disclosed beyond it are dropped
   here and never stored.
6. The session moves to `done` in one conditional UPDATE with a result JWT signed by Kluis:
   a concurrent or repeated response loses and is rejected.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from attestations.errors import CredentialRejected
from attestations.sdjwt import KB_MAX_AGE_SECONDS
from attestations.statuslist import StatusReference
from attestations.vc import VerifiedVc, verify_vc
from attestations.verifier.config import VerifierConfig
from attestations.verifier.dcql import DcqlQuery, NoMatch, check_credential_sets, requested_claims
from attestations.verifier.errors import PresentationRejected
from attestations.verifier.login import LOGIN_KIND, check_login_credentials, status_entry
from attestations.verifier.models import TrustedIssuer, VerifierSession
from attestations.verifier.prefetch import (
    RESULT_ALG,
    by_state,
    note_prefetched,
    own_credential_refs,
    read_by_state,
)
from attestations.verifier.pseudonym import pseudonym_claims
from attestations.verifier.session import (
    cancel_session,
    effective_status,
    finish_session,
    query_of,
)
from attestations.verifier.trust import IssuerNotTrusted, verify_external
from core import unb64url, utcnow
from identity import get_client
from keys import Keyring

RESULT_TYP = "kluis-verifier-result+jwt"
ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")
MAX_VP_TOKEN = 256 * 1024


@dataclasses.dataclass(frozen=True)
class AnsweredSession:
    """The columns of the session a response answers that its checks need."""

    id: str
    client_id: str | None
    kind: str
    dcql_query: dict[str, Any]
    poll_id: str | None
    nonce: str
    status: str
    expires_at: dt.datetime


_WIDTH = len(dataclasses.fields(AnsweredSession))
_BY_STATE = by_state(
    tuple(getattr(VerifierSession, f.name) for f in dataclasses.fields(AnsweredSession))
)


def _open_session(
    session: Session, keyring: Keyring, config: VerifierConfig, form: Mapping[str, str]
) -> AnsweredSession:
    """The open session `state` names: one Core read of the columns the checks need, of the
    active kid of the result's algorithm, and for a presentation of Kluis's own credential of
    its key's successor and its status entry (`prefetch`), which the checks then use in this
    transaction."""
    state = form.get("state")
    refs = own_credential_refs(form.get("vp_token"), config.issuer, MAX_VP_TOKEN)
    params = {"state": state or "", "now": utcnow()}
    found = read_by_state(session, _BY_STATE, params, refs)
    if found is None or not state:
        raise PresentationRejected("state does not name a verification transaction")
    row = AnsweredSession(*found[:_WIDTH])
    if effective_status(row) not in ("pending", "scanned"):
        raise PresentationRejected("this transaction has already ended")
    note_prefetched(session, keyring, found, _WIDTH, refs, params)
    return row


def _presentations(vp_token: str | None, query: DcqlQuery) -> dict[str, list[str]]:
    if not vp_token or len(vp_token) > MAX_VP_TOKEN:
        raise PresentationRejected("vp_token is required")
    try:
        parsed = json.loads(vp_token)
    except (ValueError, RecursionError):  # bounded where requests are read; kept as a backstop
        raise PresentationRejected("vp_token must be a JSON object") from None
    if not isinstance(parsed, dict) or not parsed:
        raise PresentationRejected("vp_token must be a non-empty JSON object")
    result: dict[str, list[str]] = {}
    for credential_id, items in parsed.items():
        credential = query.credential(credential_id)
        if credential is None:
            raise PresentationRejected(f"vp_token has an entry {credential_id!r} not in the query")
        if not isinstance(items, list) or not items or not all(isinstance(p, str) for p in items):
            raise PresentationRejected(f"vp_token.{credential_id} must be an array of strings")
        if len(items) > 1 and not credential.multiple:
            raise PresentationRejected(f"vp_token.{credential_id} must hold one presentation")
        result[credential_id] = items
    try:
        check_credential_sets(query, list(result))
    except NoMatch as exc:
        raise PresentationRejected(str(exc)) from exc
    return result


def unverified_issuer(presentation: str) -> str | None:
    """The `iss` of the Issuer-signed JWT, read before verification only to choose the keys:
    its payload decoded, nothing checked (the verification that follows checks it all)."""
    parts = presentation.split("~", 1)[0].split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(unb64url(parts[1]))
    except (ValueError, RecursionError):  # binascii.Error and JSON errors are ValueErrors
        return None
    iss = payload.get("iss") if isinstance(payload, dict) else None
    return iss if isinstance(iss, str) else None


def _verify_one(
    session: Session,
    keyring: Keyring,
    config: VerifierConfig,
    row: AnsweredSession,
    presentation: str,
    now: dt.datetime,
) -> VerifiedVc:
    """Kluis's own credentials with its keyring; others only from a trusted issuer."""
    iss = unverified_issuer(presentation)
    if iss is None or iss == config.issuer or config.fetcher is None:
        return verify_vc(
            presentation, session, keyring, row.nonce, config.client_id, now, issuer=config.issuer
        )
    trusted = session.get(TrustedIssuer, iss)
    if trusted is None:
        raise IssuerNotTrusted("the credential's issuer is not trusted by this verifier")
    return verify_external(
        presentation, session, config.fetcher, trusted, row.nonce, config.client_id, now
    )


def _verify_all(
    session: Session,
    keyring: Keyring,
    config: VerifierConfig,
    row: AnsweredSession,
    query: DcqlQuery,
    presentations: Mapping[str, list[str]],
    now: dt.datetime,
) -> tuple[list[dict[str, Any]], list[tuple[Any, StatusReference | None]]]:
    entries: list[dict[str, Any]] = []
    presented: list[tuple[Any, StatusReference | None]] = []
    for credential_id, items in presentations.items():
        credential = query.credential(credential_id)
        assert credential is not None
        for presentation in items:
            try:
                verified = _verify_one(session, keyring, config, row, presentation, now)
                vct = str(verified.sd_jwt.claims.get("vct"))
                claims = requested_claims(credential, vct, verified.claims)
            except CredentialRejected as exc:
                raise PresentationRejected(f"{credential_id}: {exc.code}: {exc}") from exc
            except NoMatch as exc:
                raise PresentationRejected(str(exc)) from exc
            kb = verified.sd_jwt.key_binding or {}
            entries.append(
                {
                    "id": credential_id,
                    "vct": vct,
                    "iss": verified.sd_jwt.claims.get("iss"),
                    "claims": claims,
                    "verification": {
                        "signature": "valid",
                        "status": "valid" if verified.status is not None else "none",
                        "key_binding": "valid",
                        "freshness": {
                            "kb_iat": kb.get("iat"),
                            "max_age_seconds": KB_MAX_AGE_SECONDS,
                        },
                    },
                }
            )
            if row.kind == LOGIN_KIND:  # Kluis's own login: whose credential it is
                entries[-1]["status"] = status_entry(verified.status)
            presented.append((verified.sd_jwt.claims.get("iss"), verified.status))
    return entries, presented


def _result_token(
    session: Session,
    keyring: Keyring,
    config: VerifierConfig,
    row: AnsweredSession,
    entries: list[dict[str, Any]],
    presented: list[tuple[Any, StatusReference | None]],
    now: dt.datetime,
) -> tuple[str, dt.datetime]:
    expires = now + config.result_ttl
    payload: dict[str, Any] = {
        "iss": config.issuer,
        "aud": row.client_id or config.issuer,  # a login session's result is for Kluis
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_urlsafe(16),
        "session_id": row.id,
        "credentials": entries,
    }
    if row.poll_id is not None and row.client_id is not None:
        client = get_client(session, row.client_id)
        sector = client.sector_identifier if client is not None else row.client_id
        payload["poll_id"] = row.poll_id
        payload.update(
            pseudonym_claims(
                session, config.pseudonym_key, config.issuer, sector, row.poll_id, presented
            )
        )
    token = keyring.sign_jwt(session, payload, RESULT_ALG, headers={"typ": RESULT_TYP})
    return token, expires


def receive_response(
    session: Session, keyring: Keyring, config: VerifierConfig, form: Mapping[str, str]
) -> None:
    """Process one Authorization Response (or Error Response) posted by a wallet."""
    row = _open_session(session, keyring, config, form)
    if "error" in form:
        code = form["error"] if ERROR_CODE.match(form["error"]) else "other"
        loaded = session.get(VerifierSession, row.id)
        if loaded is not None:  # else deleted in between: nothing left to cancel
            cancel_session(session, loaded, "wallet", f"wallet_{code}")
        return
    now = utcnow()
    query = query_of(row.dcql_query, config.issuer)
    presentations = _presentations(form.get("vp_token"), query)
    entries, presented = _verify_all(session, keyring, config, row, query, presentations, now)
    if row.kind == LOGIN_KIND:
        check_login_credentials(session, config, entries)
    token, expires = _result_token(session, keyring, config, row, entries, presented, now)
    details: dict[str, Any] = {
        "client": row.client_id,
        "credentials": [{"vct": e["vct"], "claims": sorted(e["claims"])} for e in entries],
    }
    if row.poll_id is None:
        # a poll's result names the session; with it here, the audit would tie the vote to the
        # resident whose built-in wallet consent (with their reference) is recorded alongside
        details = {"session": row.id, **details}
    # the result stored and `verifier.presented` appended: on PostgreSQL one statement
    if not finish_session(session, row.id, token, expires, details):
        raise PresentationRejected("this transaction has already ended")
