"""Signing keys: generation, encryption at rest, staged rotation, JWKS and JWT signing.

Rotation without downtime (the "publish before use" rule): a new key is published in the JWKS
at once but becomes the signing key only at `activates_at`, after relying parties have had time
to refresh their cached JWKS. Its predecessor is then *retired*: still published, so tokens it
signed keep verifying, until `retention` has passed (the longest lifetime of anything it
signed); after that it is *removed* from the JWKS and its private half can be pruned.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm import Session

from core import transaction_scoped, utcnow
from keys.errors import NoActiveKey, UnknownKey
from keys.kek import KeyEncryption, as_key_encryption
from keys.models import SigningKey
from keys.pending import PendingJwt, PrivateKey
from keys.rewrap import WrappedTable
from keys.successor import SUCCESSOR_STARTED

SUPPORTED_ALGS = ("RS256", "ES256")
WRAP_PURPOSE = "kluis/keys/signing-key-wrap"
RSA_BITS = 3072

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class KeyState(enum.StrEnum):
    PUBLISHED = "published"
    ACTIVE = "active"
    RETIRED = "retired"
    REMOVED = "removed"


@dataclasses.dataclass(frozen=True)
class KeyStatus:
    kid: str
    alg: str
    state: KeyState
    created_at: dt.datetime
    activates_at: dt.datetime
    retired_at: dt.datetime | None
    removes_at: dt.datetime | None
    has_private_key: bool

    def as_dict(self) -> dict[str, str | None]:
        """What `kluis keys list --json` and the operator console show of a key."""
        return {
            "kid": self.kid,
            "alg": self.alg,
            "state": self.state.value,
            "activates_at": self.activates_at.isoformat(),
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            "removes_at": self.removes_at.isoformat() if self.removes_at else None,
        }


def _generate(alg: str) -> PrivateKey:
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unsupported signing algorithm {alg!r}; use one of {SUPPORTED_ALGS}")


def _public_jwk(private: PrivateKey, kid: str, alg: str) -> dict[str, str]:
    public = private.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        raw: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(public))
    else:
        raw = json.loads(ECAlgorithm.to_jwk(public))
    return _published({**raw, "kid": kid, "alg": alg, "use": "sig"})


def _published(jwk: Mapping[str, str]) -> dict[str, str]:
    """A JWK as the JWKS shows it: with `use` (what OpenID Connect Core §10.1.1 and its RPs
    read) and without `key_ops`, which RFC 7517 §4.3 says not to combine with `use` (strict
    JOSE libraries refuse such keys; keys stored before carried both)."""
    return {k: v for k, v in jwk.items() if k != "key_ops"}


def derive_states(
    keys: Sequence[SigningKey], now: dt.datetime, retention: dt.timedelta
) -> list[KeyStatus]:
    """The lifecycle state of each key of one algorithm, from timestamps alone."""
    ordered = sorted(keys, key=lambda k: (k.activates_at, k.created_at))
    started = [k for k in ordered if k.activates_at <= now]
    statuses = []
    for key in ordered:
        successors = [
            k
            for k in started
            if (k.activates_at, k.created_at) > (key.activates_at, key.created_at)
        ]
        retired_at = successors[0].activates_at if successors and key in started else None
        if key.activates_at > now:
            state = KeyState.PUBLISHED
        elif retired_at is None:
            state = KeyState.ACTIVE
        elif now < retired_at + retention:
            state = KeyState.RETIRED
        else:
            state = KeyState.REMOVED
        statuses.append(
            KeyStatus(
                kid=key.kid,
                alg=key.alg,
                state=state,
                created_at=key.created_at,
                activates_at=key.activates_at,
                retired_at=retired_at,
                removes_at=retired_at + retention if retired_at else None,
                has_private_key=key.private_key_enc is not None,
            )
        )
    return statuses


def _latest_started(alg: Any, *columns: Any) -> Any:
    """`columns` of the key of `alg` started last by `now` (a bound value): the one
    `derive_states` calls active."""
    return (
        select(*columns)
        .where(SigningKey.alg == alg, SigningKey.activates_at <= bindparam("now"))
        .order_by(SigningKey.activates_at.desc(), SigningKey.created_at.desc())
        .limit(1)
    )


# built once (with its cache key): `active_key` runs it for every signature
_LATEST_STARTED = _latest_started(
    bindparam("alg"), SigningKey.kid, SigningKey.private_key_enc.is_not(None)
)


# session.info key: the active kid per algorithm read with another statement of the current
# transaction (`active_kid_column`, `note_active_kid`)
_NOTED_ACTIVE = "kluis.keys.signing.active"
# … and the started successor of a key by kid (`successor_started_column`, `note_successor`)
_NOTED_SUCCESSOR = "kluis.keys.signing.successor"


def active_kid_column(alg: str) -> Any:
    """`_LATEST_STARTED` as a scalar subquery, for a request's first read to fetch the
    active kid of `alg` with its own row (one round trip less per signature): the kid, ''
    if the latest started key has lost its private half, NULL if none has started. Binds
    `now`. Hand the value to `Keyring.note_active_kid`."""
    kid = case((SigningKey.private_key_enc.is_not(None), SigningKey.kid), else_="")
    return _latest_started(alg, kid).scalar_subquery()


# `public_key`: a key's public half and its place in the order, once per kid
_PUBLIC_KEY = select(
    SigningKey.public_jwk, SigningKey.alg, SigningKey.activates_at, SigningKey.created_at
).where(SigningKey.kid == bindparam("kid"))


@dataclasses.dataclass(frozen=True)
class _PublicEntry:
    key: PublicKey
    alg: str
    activates_at: dt.datetime
    created_at: dt.datetime


class Keyring:
    """Signs with the active key of an algorithm and publishes the JWKS.

    Decrypted private keys are cached per `kid` (a kid's key never changes); which key is
    active is read from the database on every call, so all processes rotate together.
    """

    def __init__(self, secret: bytes | KeyEncryption, retention: dt.timedelta) -> None:
        self._wrap = as_key_encryption(secret).for_purpose(WRAP_PURPOSE)
        self.retention = retention
        self._private_cache: dict[str, PrivateKey] = {}
        self._public_cache: dict[str, _PublicEntry] = {}

    @property
    def wrapped(self) -> WrappedTable:
        """Where the private keys are stored wrapped (for `kluis secret rotate`)."""
        return WrappedTable(
            "signing keys",
            SigningKey,
            SigningKey.kid,
            SigningKey.private_key_enc,
            SigningKey.kek_fingerprint,
            self._wrap,
        )

    # -- lifecycle ---------------------------------------------------------------------
    def create_key(
        self, session: Session, alg: str, *, activates_at: dt.datetime | None = None
    ) -> SigningKey:
        private = _generate(alg)
        kid = f"{alg.lower()}-{secrets.token_urlsafe(12)}"
        pkcs8 = private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        now = utcnow()
        wrapped, fingerprint = self._wrap.seal(pkcs8, kid.encode())
        row = SigningKey(
            kid=kid,
            alg=alg,
            public_jwk=_public_jwk(private, kid, alg),
            private_key_enc=wrapped,
            kek_fingerprint=fingerprint,
            created_at=now,
            activates_at=activates_at or now,
        )
        session.add(row)
        session.flush()
        return row

    def ensure_keys(self, session: Session, algs: Sequence[str] = SUPPORTED_ALGS) -> list[str]:
        """Create an immediately active key for each algorithm that has none (first start)."""
        created = []
        for alg in algs:
            exists = session.scalar(select(SigningKey.kid).where(SigningKey.alg == alg).limit(1))
            if exists is None:
                created.append(self.create_key(session, alg).kid)
        return created

    def rotate(self, session: Session, alg: str, publish_delay: dt.timedelta) -> SigningKey:
        """Publish a new key now; it signs from `now + publish_delay` on."""
        return self.create_key(session, alg, activates_at=utcnow() + publish_delay)

    def statuses(
        self, session: Session, alg: str | None = None, now: dt.datetime | None = None
    ) -> list[KeyStatus]:
        now = now or utcnow()
        query = select(SigningKey)
        if alg:
            query = query.where(SigningKey.alg == alg)
        rows = list(session.scalars(query))
        result: list[KeyStatus] = []
        for each in sorted({r.alg for r in rows}):
            result.extend(derive_states([r for r in rows if r.alg == each], now, self.retention))
        return result

    def prune(self, session: Session, now: dt.datetime | None = None) -> list[str]:
        """Destroy the private half of removed keys. Returns their kids."""
        removed = [
            s.kid
            for s in self.statuses(session, now=now)
            if s.state is KeyState.REMOVED and s.has_private_key
        ]
        if removed:
            session.execute(
                update(SigningKey).where(SigningKey.kid.in_(removed)).values(private_key_enc=None)
            )
            for kid in removed:
                self._private_cache.pop(kid, None)
        return removed

    # -- use ---------------------------------------------------------------------------
    def active_key(self, session: Session, alg: str, now: dt.datetime | None = None) -> str:
        """The kid of the key of `alg` that signs now: the last one started (the state
        `derive_states` calls active), if its private half is still there.

        Read on every signature, so that all processes rotate together; one indexed read of
        two columns (not the rows with their JWKs and wrapped keys), since every ID token
        pays for it."""
        noted = transaction_scoped(session, _NOTED_ACTIVE) if now is None else {}
        if alg in noted:
            if not noted[alg]:
                raise NoActiveKey(alg)
            return str(noted[alg])
        # on the session's connection: a plain read, nothing of the ORM's is needed (a key
        # is flushed when it is created)
        params = {"alg": alg, "now": now or utcnow()}
        latest = session.connection().execute(_LATEST_STARTED, params).first()
        if latest is None or not latest[1]:
            raise NoActiveKey(alg)
        return str(latest[0])

    @staticmethod
    def note_active_kid(session: Session, alg: str, kid: str | None) -> None:
        """The active kid of `alg` as read by `active_kid_column` in the session's current
        transaction: `active_key` answers from it until the transaction ends, so the key is
        still read in every transaction that signs (all processes rotate together)."""
        transaction_scoped(session, _NOTED_ACTIVE)[alg] = kid or ""

    @staticmethod
    def note_successor(
        session: Session, kid: str, now: dt.datetime, started: dt.datetime | None
    ) -> None:
        """The started successor of `kid` as `successor_started_column` read it at `now` in
        the session's current transaction: `public_key` decides from it whether the key has
        been removed until the transaction ends, as it would have by its own read then."""
        transaction_scoped(session, _NOTED_SUCCESSOR)[kid] = (now, started)

    def _private_key(self, session: Session, kid: str) -> PrivateKey:
        cached = self._private_cache.get(kid)
        if cached is not None:
            return cached
        row = session.get(SigningKey, kid)
        if row is None or row.private_key_enc is None:
            raise UnknownKey(kid)
        der = self._wrap.unseal(row.private_key_enc, kid.encode(), row.kek_fingerprint)
        private = serialization.load_der_private_key(der, password=None)
        if not isinstance(private, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise UnknownKey(kid)
        self._private_cache[kid] = private
        return private

    def signing_key(self, session: Session, alg: str) -> tuple[str, PrivateKey]:
        """The active key of `alg` as (kid, private key), for signers that build their own
        JWS (SD-JWT VCs). Prefer `sign_jwt` for plain JWTs."""
        kid = self.active_key(session, alg)
        return kid, self._private_key(session, kid)

    def sign_jwt(
        self,
        session: Session,
        payload: Mapping[str, Any],
        alg: str = "RS256",
        headers: Mapping[str, Any] | None = None,
    ) -> str:
        return self.prepare_jwt(session, payload, alg, headers).sign()

    def prepare_jwt(
        self,
        session: Session,
        payload: Mapping[str, Any],
        alg: str = "RS256",
        headers: Mapping[str, Any] | None = None,
    ) -> PendingJwt:
        """A JWT to be signed later with the key active now (read in the session's
        transaction), for signing after the transaction has ended."""
        kid = self.active_key(session, alg)
        return PendingJwt(
            dict(payload), self._private_key(session, kid), alg, {**(headers or {}), "kid": kid}
        )

    def jwks(
        self, session: Session, now: dt.datetime | None = None
    ) -> dict[str, list[dict[str, str]]]:
        """Public keys of every key that is published, active or retired."""
        live = {s.kid for s in self.statuses(session, now=now) if s.state is not KeyState.REMOVED}
        rows = session.scalars(select(SigningKey).where(SigningKey.kid.in_(live)))
        return {
            "keys": [_published(r.public_jwk) for r in sorted(rows, key=lambda r: r.created_at)]
        }

    def public_key(self, session: Session, kid: str, now: dt.datetime | None = None) -> PublicKey:
        """A published key by kid (for verifying Kluis's own tokens); removed keys are unknown.

        The parsed key and its place in the order (alg, activates_at, created_at) are cached per
        kid (a kid's key never changes); whether it has been removed is read on every call:
        one indexed read of its first started successor, so all processes agree at once (or
        the successor read earlier in the transaction by `successor_started_column`)."""
        cached = self._public_cache.get(kid)
        if cached is None:
            row = session.connection().execute(_PUBLIC_KEY, {"kid": kid}).first()
            if row is None:
                raise UnknownKey(kid)
            key = jwt.PyJWK(row.public_jwk).key
            if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
                raise UnknownKey(kid)
            cached = _PublicEntry(key, row.alg, row.activates_at, row.created_at)
            self._public_cache[kid] = cached
        noted = transaction_scoped(session, _NOTED_SUCCESSOR).get(kid) if now is None else None
        if noted is not None:  # read with the request's first statement
            moment, started = noted
        else:
            moment, started = now or utcnow(), None
            if cached.activates_at <= moment:  # not started: not retired, let alone removed
                params = {
                    "alg": cached.alg,
                    "now": moment,
                    "activates_at": cached.activates_at,
                    "created_at": cached.created_at,
                }
                successor = session.connection().execute(SUCCESSOR_STARTED, params).first()
                started = successor[0] if successor is not None else None
        if started is not None and moment >= started + self.retention:  # retired long ago
            raise UnknownKey(kid)
        return cached.key
