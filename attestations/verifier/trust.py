"""Issuers the verifier trusts besides Kluis itself, configured by the operator.

An issuer is trusted by its `iss` for a list of `vct` values, with keys from a JWKS the
operator gives or from its JWT VC Issuer Metadata (SD-JWT VC §4: `/.well-known/jwt-vc-issuer`
inserted before the path of `iss`, with `jwks` or `jwks_uri`). Presentations of its
credentials are verified as Kluis's own are (RFC 9901 §7.1 and §7.3, key binding to the
session), plus: the `vct` must be one accepted from that issuer, and a `status` claim is
checked against the issuer's Token Status List fetched over HTTP (§8.3), within the limits of
`adapters.fetch` (public addresses only in production, against SSRF); why a fetch failed goes
to the log, never to the wallet.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from adapters import Fetcher, FetchError
from attestations.config import AttestationConfig
from attestations.errors import CredentialRejected, MalformedCredential, StatusUnavailable
from attestations.sdjwt import (
    JsonObject,
    KeyBindingExpectation,
    SdJwtError,
    VerificationPolicy,
    verify_sd_jwt,
)
from attestations.sdjwt.jwk import PublicKey, public_key_from_jwk
from attestations.statuslist import MEDIA_TYPE as STATUS_MEDIA_TYPE
from attestations.statuslist import VALID, StatusReference, read_status
from attestations.vc import ALG, NEVER_DISCLOSED, REGISTERED, VC_TYP, VerifiedVc
from attestations.verifier.models import TrustedIssuer
from audit import record
from core import InvalidInput, rowcount, utcnow
from keys import UnknownKey

log = logging.getLogger("kluis.verifier.trust")

WELL_KNOWN = "/.well-known/jwt-vc-issuer"
METADATA_MAX_BYTES = 64 * 1024
JWKS_MAX_BYTES = 256 * 1024
STATUS_LIST_MAX_BYTES = 1 << 20
STATUS_UNAVAILABLE = "the status list could not be used"
REFRESH_INTERVAL = dt.timedelta(seconds=60)  # at most one key refresh per issuer per minute
MAX_VCT_VALUES = 32
MAX_KEYS = 32
_LAST_REFRESH: dict[str, float] = {}  # iss → monotonic time of this process's last refresh


class InvalidTrustedIssuer(InvalidInput):
    slug = "invalid-trusted-issuer"
    title = "The trusted issuer cannot be added"


class IssuerNotTrusted(CredentialRejected):
    code = "untrusted_issuer"


class TypeNotAccepted(CredentialRejected):
    code = "vct_not_accepted"


def metadata_url(iss: str) -> str:
    parts = urlsplit(iss)
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{parts.path.rstrip('/')}"


def _check_iss(iss: str) -> str:
    parts = urlsplit(iss)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise InvalidTrustedIssuer("iss must be an https URL without query or fragment")
    return iss


def _check_vct_values(values: Sequence[str], own_issuer: str = "") -> list[str]:
    """1 to `MAX_VCT_VALUES` values, none of them a type of Kluis itself (`<issuer>/vct/…`):
    only Kluis attests its own types, and only its own credentials link to an account."""
    cleaned = sorted({v.strip() for v in values if v.strip()})
    if not cleaned or len(cleaned) > MAX_VCT_VALUES:
        raise InvalidTrustedIssuer(f"give 1 to {MAX_VCT_VALUES} vct values")
    own = AttestationConfig(own_issuer).vct("") if own_issuer else None
    if own is not None and any(v.startswith(own) for v in cleaned):
        raise InvalidTrustedIssuer("Kluis's own credential types are attested by Kluis only")
    return cleaned


def checked_jwks(value: Any) -> dict[str, Any]:
    """A JWKS of public keys only (RFC 7517 §5); each key must load."""
    keys = value.get("keys") if isinstance(value, Mapping) else None
    if not isinstance(keys, list) or not keys or len(keys) > MAX_KEYS:
        raise InvalidTrustedIssuer(f"a JWKS needs 1 to {MAX_KEYS} keys")
    for key in keys:
        try:
            public_key_from_jwk(key, MalformedJwk)
        except SdJwtError as exc:
            raise InvalidTrustedIssuer(f"unusable key in the JWKS: {exc}") from exc
    return {"keys": keys}


class MalformedJwk(SdJwtError):
    code = "malformed_jwk"


def _json(fetcher: Fetcher, url: str, max_bytes: int) -> Any:
    try:
        return json.loads(fetcher.get(url, accept="application/json", max_bytes=max_bytes))
    except (FetchError, ValueError) as exc:
        raise InvalidTrustedIssuer(f"cannot fetch {url}: {exc}") from exc


def fetch_issuer_keys(fetcher: Fetcher, iss: str) -> dict[str, Any]:
    """SD-JWT VC §4: the metadata's `issuer` must equal `iss`; keys inline or by reference."""
    metadata = _json(fetcher, metadata_url(iss), METADATA_MAX_BYTES)
    if not isinstance(metadata, dict) or metadata.get("issuer") != iss:
        raise InvalidTrustedIssuer("the issuer metadata names another issuer")
    if "jwks" in metadata:
        return checked_jwks(metadata["jwks"])
    jwks_uri = metadata.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise InvalidTrustedIssuer("the issuer metadata has neither jwks nor jwks_uri")
    return checked_jwks(_json(fetcher, jwks_uri, JWKS_MAX_BYTES))


def add_trusted_issuer(
    session: Session,
    fetcher: Fetcher,
    iss: str,
    vct_values: Sequence[str],
    actor: str,
    *,
    jwks: Any = None,
    own_issuer: str = "",
) -> TrustedIssuer:
    """Trust `iss` for `vct_values` (replacing an earlier entry for it), audited."""
    _check_iss(iss)
    if iss.rstrip("/") == own_issuer.rstrip("/"):
        raise InvalidTrustedIssuer("Kluis trusts its own credentials already")
    values = _check_vct_values(vct_values, own_issuer)
    now = utcnow()
    source = "jwks" if jwks is not None else "metadata"
    keys = checked_jwks(jwks) if jwks is not None else fetch_issuer_keys(fetcher, iss)
    row = session.get(TrustedIssuer, iss) or TrustedIssuer(iss=iss, added_at=now)
    row.source, row.jwks, row.vct_values = source, keys, values
    row.keys_fetched_at = None  # the last refresh for an unknown kid: none yet
    session.add(row)
    session.flush()
    details = {"iss": iss, "vct_values": values, "source": source, "keys": len(keys["keys"])}
    record(session, "verifier.issuer_trusted", actor, details=details)
    return row


def remove_trusted_issuer(session: Session, iss: str, actor: str) -> bool:
    deleted = session.execute(delete(TrustedIssuer).where(TrustedIssuer.iss == iss))
    if rowcount(deleted) != 1:
        return False
    record(session, "verifier.issuer_removed", actor, details={"iss": iss})
    return True


def trusted_issuers(session: Session) -> list[TrustedIssuer]:
    return list(session.scalars(select(TrustedIssuer).order_by(TrustedIssuer.iss)))


def trusted_vct_values(session: Session) -> set[str]:
    return {vct for row in trusted_issuers(session) for vct in row.vct_values}


# --- verifying a presentation ------------------------------------------------------------------


def _find_key(jwks: Mapping[str, Any], kid: Any) -> PublicKey | None:
    keys = jwks.get("keys", [])
    if kid is None and len(keys) == 1:
        return public_key_from_jwk(keys[0], MalformedJwk)
    for key in keys:
        if kid is not None and key.get("kid") == kid:
            return public_key_from_jwk(key, MalformedJwk)
    return None


def _key_for(
    session: Session, fetcher: Fetcher, row: TrustedIssuer, kid: Any, now: dt.datetime
) -> PublicKey | None:
    """The key by `kid`; an unknown kid from a metadata issuer refreshes its keys (rotation),
    at most once per `REFRESH_INTERVAL`."""
    key = _find_key(row.jwks, kid)
    fresh = row.keys_fetched_at is not None and now - row.keys_fetched_at < REFRESH_INTERVAL
    # also per process: forged kids must not turn each request into a fetch, and where the
    # request keeps a transaction a refused presentation rolls `keys_fetched_at` back. (The
    # wallet's response runs in autocommit on PostgreSQL: there the refresh stays committed,
    # whatever becomes of the presentation. The keys are the issuer's own, fetched by us.)
    recent = time.monotonic() - _LAST_REFRESH.get(row.iss, -1e9) < REFRESH_INTERVAL.seconds
    if key is not None or row.source != "metadata" or fresh or recent:
        return key
    _LAST_REFRESH[row.iss] = time.monotonic()
    try:
        row.jwks = fetch_issuer_keys(fetcher, row.iss)
    except InvalidTrustedIssuer as exc:  # logged, never told to the wallet
        log.warning("keys of trusted issuer %s not refreshed: %s", row.iss, exc)
        return None
    finally:
        row.keys_fetched_at = now
        session.flush()
    return _find_key(row.jwks, kid)


def _check_status(
    session: Session, fetcher: Fetcher, row: TrustedIssuer, claims: JsonObject, now: dt.datetime
) -> StatusReference | None:
    if "status" not in claims:
        return None
    ref = StatusReference.from_claims(claims)

    def key_for_kid(kid: str) -> PublicKey:
        key = _key_for(session, fetcher, row, kid, now)
        if key is None:
            raise UnknownKey(kid)
        return key

    # the URI is the issuer's choice and the wallet reads the error: one answer whatever went
    # wrong (no HTTP status, refused address or invalid document), so that nobody can scan
    # hosts through Kluis; the reason goes to the log
    try:
        token = fetcher.get(ref.uri, accept=STATUS_MEDIA_TYPE, max_bytes=STATUS_LIST_MAX_BYTES)
        status = read_status(token.decode(errors="replace"), ref, key_for_kid, now.timestamp())
    except (FetchError, StatusUnavailable) as exc:
        log.warning("status list of trusted issuer %s unusable: %s", row.iss, exc)
        raise StatusUnavailable(STATUS_UNAVAILABLE) from exc
    if status != VALID:
        raise CredentialRejected("the credential has been revoked", code="revoked")
    return ref


def verify_external(
    presentation: str,
    session: Session,
    fetcher: Fetcher,
    row: TrustedIssuer,
    nonce: str,
    audience: str,
    now: dt.datetime,
) -> VerifiedVc:
    """Verify an SD-JWT VC presentation from the trusted issuer `row`. Raises
    `CredentialRejected` (with the code of the check that failed)."""
    policy = VerificationPolicy(
        expected_typ=VC_TYP,
        algorithms=frozenset({ALG}),
        key_binding=KeyBindingExpectation(nonce, audience),
        required_claims=("iss", "vct", "cnf"),
        expected_issuer=row.iss,
    )
    try:
        verified = verify_sd_jwt(
            presentation,
            key_resolver=lambda header, _: _key_for(session, fetcher, row, header.get("kid"), now),
            policy=policy,
            now=now.timestamp(),
        )
    except SdJwtError as exc:
        raise CredentialRejected(str(exc), code=exc.code) from exc
    if {path[0] for path in verified.disclosed_paths} & set(NEVER_DISCLOSED):
        raise MalformedCredential("registered claims must not be selectively disclosable")
    vct = verified.claims.get("vct")
    if not isinstance(vct, str) or vct not in row.vct_values:
        raise TypeNotAccepted("this credential type is not accepted from this issuer")
    if verified.holder_jwk is None:
        raise MalformedCredential("cnf.jwk is required")
    status = _check_status(session, fetcher, row, verified.claims, now)
    disclosed = {k: v for k, v in verified.claims.items() if k not in REGISTERED}
    return VerifiedVc(vct, disclosed, verified.holder_jwk, status, verified)
