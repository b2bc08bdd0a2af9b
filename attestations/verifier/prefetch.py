"""direct_post's first read (OpenID4VP 1.0 §8.2): the session by `state` together with what
the checks of a presentation of one of Kluis's own credentials will read (one round trip
instead of four on PostgreSQL):

- the active kid of the result's algorithm (`keys.active_kid_column`, `Keyring.note_active_kid`);
- the started successor of the key the credential names (`keys.successor_started_column`,
  `Keyring.note_successor`): whether that key has been removed;
- the credential's entry in Kluis's own Status List (`own_status_columns`, `note_own_status`).

The kid and the status entry are read from the unverified presentation only to choose what to
fetch. The verification that follows (`verify_vc`) checks everything as before and uses a
noted value only for exactly that kid and that entry, in the same transaction; anything else
(several presentations, another issuer, a malformed token) is read the usual way, and every
error is still reported by the check that finds it.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.errors import StatusUnavailable
from attestations.own_status import note_own_status, own_status_columns, own_status_params
from attestations.statuslist import StatusReference
from attestations.verifier.models import VerifierSession
from core import Prepared, unb64url
from keys import Keyring, active_kid_column, successor_started_column

RESULT_ALG = "ES256"


@dataclasses.dataclass(frozen=True)
class CredentialRefs:
    """What a presentation's Issuer-signed JWT names, before verification."""

    kid: str
    list_id: str
    idx: int


def unverified_parts(presentation: str) -> tuple[Any, Any] | None:
    """The header and payload of the Issuer-signed JWT of an SD-JWT presentation, decoded,
    nothing checked; None if they cannot be decoded as JSON."""
    parts = presentation.split("~", 1)[0].split(".")
    if len(parts) != 3:
        return None
    try:
        return json.loads(unb64url(parts[0])), json.loads(unb64url(parts[1]))
    except (ValueError, RecursionError):  # binascii.Error and JSON errors are ValueErrors
        return None


def own_credential_refs(vp_token: str | None, issuer: str, limit: int) -> CredentialRefs | None:
    """For a `vp_token` of exactly one presentation of a credential `issuer` (Kluis) issued:
    its key's kid and its entry in one of Kluis's own Status Lists. None otherwise."""
    if not vp_token or len(vp_token) > limit:
        return None
    try:
        parsed = json.loads(vp_token)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict) or len(parsed) != 1:
        return None
    [items] = parsed.values()
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], str):
        return None
    decoded = unverified_parts(items[0])
    if decoded is None or not isinstance(decoded[0], dict) or not isinstance(decoded[1], dict):
        return None
    (header, payload), prefix = decoded, AttestationConfig(issuer).status_uri("")
    kid = header.get("kid")
    if payload.get("iss") != issuer or not isinstance(kid, str):
        return None
    try:
        ref = StatusReference.from_claims(payload)
    except StatusUnavailable:
        return None
    list_id = ref.uri[len(prefix) :]
    if not ref.uri.startswith(prefix) or "/" in list_id:
        return None
    return CredentialRefs(kid, list_id, ref.idx)


def by_state(columns: tuple[Any, ...]) -> tuple[Prepared, Prepared]:
    """The two statements: the session's `columns` by `state` with the active kid, and the
    same with the credential's key successor and status entry."""
    base = (*columns, active_kid_column(RESULT_ALG))
    where = VerifierSession.state == bindparam("state")
    with_refs = (*base, successor_started_column(), *own_status_columns())
    return Prepared(select(*base).where(where)), Prepared(select(*with_refs).where(where))


def read_by_state(
    session: Session,
    statements: tuple[Prepared, Prepared],
    params: dict[str, Any],
    refs: CredentialRefs | None,
) -> Any | None:
    """One read (a named tuple); `note` the extra values afterwards (`note_prefetched`)."""
    if refs is None:
        return statements[0].first(session, params)
    more = {"successor_of": refs.kid, **own_status_params(refs.list_id, refs.idx)}
    return statements[1].first(session, {**params, **more})


def note_prefetched(
    session: Session,
    keyring: Keyring,
    found: Row[Any],
    width: int,
    refs: CredentialRefs | None,
    params: dict[str, Any],
) -> None:
    """Hand the values read after the session's `width` columns to whoever reads them next in
    this transaction (the result's signer, the key's removal check, the status check)."""
    keyring.note_active_kid(session, RESULT_ALG, found[width])
    if refs is not None:
        successor, size, revoked = found[width + 1 : width + 4]
        keyring.note_successor(session, refs.kid, params["now"], successor)
        note_own_status(session, refs.list_id, refs.idx, size, revoked)
