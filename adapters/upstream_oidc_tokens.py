"""The checks of an upstream OpenID Connect login, as pure functions, and its error types.

The ID token comes from the broker's token endpoint (OpenID Connect Core 1.0 §3.1.3.7); each
check is one small `check_*` function and `ID_TOKEN_CHECKS` lists them in the order they run.
Claims of the ID token:
- required: `iss`, `sub`, `aud`, `exp`, `iat`, `nonce`
- optional, checked when present: `nbf`, `azp`, `at_hash`, `acr`, `represents` (NL GOV
  profile: logging in on behalf of someone else, which Kluis refuses)
- ignored: everything else (the BSN claim is read afterwards by `read_bsn`).

Error messages (`str(error)`) are for the operator's log; `resident_message` is what the
resident reads. Neither ever contains the BSN, the code, a token or a nonce.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from core import b64url, register, translate

ALLOWED_ALGORITHMS = ("RS256", "PS256", "ES256")  # never "none", never HS* (a shared secret)
ID_TOKEN_LEEWAY_S = 60  # clock skew tolerated on exp, iat and nbf
MIN_RSA_BITS = 2048
BSN_SHAPE = re.compile(r"[0-9]{9}")  # shape only: the elfproef is checked elsewhere

CANCELLED_ERRORS = frozenset(
    {"access_denied", "login_required", "consent_required", "interaction_required"}
)
UNAVAILABLE_ERRORS = frozenset({"server_error", "temporarily_unavailable"})

Claims = dict[str, Any]
# the broker's JWKS keys; called with True to fetch them again (key rotation)
KeySource = Callable[[bool], list[dict[str, Any]]]

register(
    {
        "upstream.unavailable": {
            "nl": "Inloggen met DigiD lukt op dit moment niet. Probeer het later opnieuw.",
            "en": "Logging in with DigiD is not possible right now. Please try again later.",
        },
        "upstream.cancelled": {
            "nl": "Het inloggen met DigiD is afgebroken. Je kunt het opnieuw proberen.",
            "en": "Logging in with DigiD was cancelled. You can try again.",
        },
        "upstream.expired": {
            "nl": "Het inloggen duurde te lang of is al afgerond. Begin opnieuw.",
            "en": "The login took too long or was already completed. Please start again.",
        },
        "upstream.invalid": {
            "nl": "Het antwoord van de inlogdienst klopt niet. Begin opnieuw met inloggen.",
            "en": "The answer of the login service is not valid. Please start again.",
        },
        "upstream.no_bsn": {
            "nl": "We hebben geen geldig burgerservicenummer ontvangen van de inlogdienst.",
            "en": "We did not receive a valid citizen service number from the login service.",
        },
        "upstream.assurance": {
            "nl": "Log opnieuw in op een hoger niveau, bijvoorbeeld met de DigiD app.",
            "en": "Please log in again at a higher level, for example with the DigiD app.",
        },
        "upstream.representation": {
            "nl": "Inloggen namens iemand anders kan hier niet. Log in met je eigen DigiD.",
            "en": "Logging in on behalf of someone else is not possible here. Use your own DigiD.",
        },
    }
)


class UpstreamLoginError(Exception):
    """A login at the upstream broker did not produce an identity. `str()` says why, for the
    operator; `resident_message()` says what to do, for the resident."""

    resident_key: ClassVar[str] = "upstream.invalid"

    def resident_message(self, lang: str = "nl") -> str:
        return translate(lang, self.resident_key)


class UpstreamUnavailable(UpstreamLoginError):
    """The broker could not be reached or answered with an error of its own."""

    resident_key = "upstream.unavailable"


class UpstreamMisconfigured(UpstreamUnavailable):
    """The broker and this configuration do not fit (issuer, client, endpoints, algorithms):
    the operator must act."""


class LoginCancelled(UpstreamLoginError):
    """The resident stopped (or was refused) at the broker (`access_denied` and the like)."""

    resident_key = "upstream.cancelled"


class LoginExpired(UpstreamLoginError):
    """The pending login is too old, or its code was already used or has expired."""

    resident_key = "upstream.expired"


class InvalidCallback(UpstreamLoginError):
    """The callback does not belong to the pending login (state, iss) or lacks a code."""


class InvalidIdToken(UpstreamLoginError):
    """The ID token failed a check; the message names the check, never the token."""


class BsnUnavailable(UpstreamLoginError):
    """The BSN claim is missing or is not nine digits."""

    resident_key = "upstream.no_bsn"


class AssuranceTooLow(UpstreamLoginError):
    """The broker authenticated at a level (`acr`) that is not accepted."""

    resident_key = "upstream.assurance"


class RepresentationRefused(UpstreamLoginError):
    """The resident logged in on behalf of someone else (a `represents` claim)."""

    resident_key = "upstream.representation"


@dataclass(frozen=True)
class Expected:
    """What the ID token must say: from the configuration and the pending login."""

    issuer: str
    client_id: str
    nonce: str
    now: float
    access_token: str | None = None
    accepted_acr: tuple[str, ...] = ()


def check_pending(
    state: str, created_at: float, callback: Mapping[str, str], now: float, max_age: float
) -> None:
    """The callback belongs to the pending login (`state`, RFC 6749 §10.12), not too old."""
    age = now - created_at
    if age > max_age or age < -max_age:
        raise LoginExpired(f"pending login is {age:.0f} s old (limit {max_age:.0f} s)")
    given = callback.get("state")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), state.encode()):
        raise InvalidCallback("callback state missing or not the pending login's")


def check_callback_issuer(callback: Mapping[str, str], issuer: str, always_sent: bool) -> None:
    """RFC 9207 §2.4: a present `iss` must be the issuer; an absent one is refused when the
    broker's metadata says it always sends it."""
    iss = callback.get("iss")
    if iss is None and always_sent:
        raise InvalidCallback("callback lacks iss although the broker sends it")
    if iss is not None and iss != issuer:
        raise InvalidCallback("callback iss is not the broker (mix-up?)")


def check_callback_error(callback: Mapping[str, str]) -> None:
    """RFC 6749 §4.1.2.1 and OIDC Core §3.1.2.6: the broker's `error`, for the resident."""
    if "error" not in callback:
        return
    code = printable(callback["error"], 40)
    detail = f"broker answered error={code!r} ({printable(callback.get('error_description'))})"
    if code in CANCELLED_ERRORS:
        raise LoginCancelled(detail)
    if code in UNAVAILABLE_ERRORS:
        raise UpstreamUnavailable(detail)
    raise UpstreamMisconfigured(detail)


def printable(value: object, limit: int = 200) -> str:
    """Broker-supplied text for the log: RFC 6749 §4.1.2.1's character set, bounded."""
    if not isinstance(value, str):
        return ""
    return "".join(c for c in value if " " <= c <= "~" and c not in '"\\')[:limit]


def decode_id_token(token: str, keys: KeySource, expected: Expected) -> Claims:
    """Verify the signature (allowed algorithm, key by `kid`), then run `ID_TOKEN_CHECKS`."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise InvalidIdToken("ID token is not a compact JWS (encrypted ID tokens unsupported)")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidIdToken("ID token header unreadable") from None
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise InvalidIdToken(f"ID token algorithm not allowed: {str(alg)[:16]!r}")
    if "crit" in header:
        raise InvalidIdToken("ID token has critical header parameters")
    key = signing_key(keys, header.get("kid"), alg)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            # the claims are checked below, against the injected clock
            options={
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise InvalidIdToken("ID token signature invalid") from None
    except jwt.PyJWTError as exc:
        raise InvalidIdToken(f"ID token not decodable ({type(exc).__name__})") from None
    for check in ID_TOKEN_CHECKS:
        check(claims, expected)
    return claims


def signing_key(keys: KeySource, kid: object, alg: str) -> Any:
    """The broker's verification key for `kid` and `alg`. A `kid` the JWKS does not know makes
    it fetch the JWKS once more (OIDC Core §10.1.1: the broker rotated its keys)."""
    if kid is not None and not isinstance(kid, str):
        raise InvalidIdToken("ID token kid is not a string")
    candidates = _with_kid(keys(False), kid)
    if not candidates and kid is not None:
        candidates = _with_kid(keys(True), kid)
    if kid is None and len(candidates) != 1:
        raise InvalidIdToken("ID token has no kid and the JWKS has not exactly one key")
    if not candidates:
        raise InvalidIdToken("ID token kid not in the broker's JWKS")
    if len(candidates) > 1:
        raise InvalidIdToken("ID token kid is ambiguous in the broker's JWKS")
    return _usable(candidates[0], alg)


def _with_kid(keys: list[dict[str, Any]], kid: str | None) -> list[dict[str, Any]]:
    signing = [k for k in keys if k.get("use", "sig") == "sig"]
    return signing if kid is None else [k for k in signing if k.get("kid") == kid]


def _usable(jwk: Mapping[str, Any], alg: str) -> Any:
    if jwk.get("alg", alg) != alg:
        raise InvalidIdToken("ID token alg differs from its key's alg")
    if "verify" not in jwk.get("key_ops", ["verify"]):
        raise InvalidIdToken("ID token key is not for verification")
    want_kty = "EC" if alg == "ES256" else "RSA"
    if jwk.get("kty") != want_kty or (alg == "ES256" and jwk.get("crv") != "P-256"):
        raise InvalidIdToken("ID token key type does not fit its algorithm")
    try:
        key = jwt.PyJWK(dict(jwk), algorithm=alg).key
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidIdToken("ID token key unreadable") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise InvalidIdToken("ID token RSA key too short")
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise InvalidIdToken("ID token key is not a public key")
    return key


def _number(claims: Claims, name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidIdToken(f"ID token {name} is not a number")
    return float(value)


def check_issuer(claims: Claims, expected: Expected) -> None:
    """§3.1.3.7 item 2: exactly the configured (and discovered) issuer."""
    if claims.get("iss") != expected.issuer:
        raise InvalidIdToken("ID token iss is not the broker")


def check_audience(claims: Claims, expected: Expected) -> None:
    """§3.1.3.7 items 3-5: our client_id among the audiences; `azp` when there are several."""
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise InvalidIdToken("ID token aud missing or malformed")
    if expected.client_id not in audiences:
        raise InvalidIdToken("ID token aud does not contain our client_id")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != expected.client_id:
        raise InvalidIdToken("ID token azp is not our client_id")


def check_times(claims: Claims, expected: Expected) -> None:
    """§3.1.3.7 items 9-10: not expired, not issued or valid only in the future."""
    exp, iat, nbf = _number(claims, "exp"), _number(claims, "iat"), _number(claims, "nbf")
    if exp is None or iat is None:
        raise InvalidIdToken("ID token lacks exp or iat")
    if expected.now > exp + ID_TOKEN_LEEWAY_S:
        raise InvalidIdToken("ID token expired")
    if iat > expected.now + ID_TOKEN_LEEWAY_S:
        raise InvalidIdToken("ID token issued in the future")
    if nbf is not None and nbf > expected.now + ID_TOKEN_LEEWAY_S:
        raise InvalidIdToken("ID token not yet valid (nbf)")


def check_nonce(claims: Claims, expected: Expected) -> None:
    """§3.1.3.7 item 11: the nonce of this pending login, compared in constant time."""
    nonce = claims.get("nonce")
    if not isinstance(nonce, str):
        raise InvalidIdToken("ID token lacks the nonce")
    if not hmac.compare_digest(nonce.encode(), expected.nonce.encode()):
        raise InvalidIdToken("ID token nonce does not match the pending login")


def check_subject(claims: Claims, expected: Expected) -> None:
    """§2: `sub` is required, a non-empty string of at most 255 ASCII characters."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not 0 < len(sub) <= 255 or not sub.isascii():
        raise InvalidIdToken("ID token sub missing or malformed")


def check_at_hash(claims: Claims, expected: Expected) -> None:
    """§3.1.3.8 (optional in the code flow): when present, it binds the access token."""
    at_hash = claims.get("at_hash")
    if at_hash is None:
        return
    if expected.access_token is None or not isinstance(at_hash, str):
        raise InvalidIdToken("ID token at_hash cannot be checked")
    # every allowed algorithm hashes with SHA-256: the left half of the digest, base64url
    digest = hashlib.sha256(expected.access_token.encode()).digest()
    if not hmac.compare_digest(at_hash.encode(), b64url(digest[:16]).encode()):
        raise InvalidIdToken("ID token at_hash does not match the access token")


def check_acr(claims: Claims, expected: Expected) -> None:
    """§3.1.2.1: `acr_values` is a voluntary request, so the answer is checked against the
    accepted levels, when configured (NL GOV profile: the client verifies the level)."""
    acr = claims.get("acr")
    if acr is not None and not isinstance(acr, str):
        raise InvalidIdToken("ID token acr is not a string")
    if expected.accepted_acr and acr not in expected.accepted_acr:
        raise AssuranceTooLow(f"ID token acr not accepted: {str(acr)[:80]!r}")


def check_no_representation(claims: Claims, expected: Expected) -> None:
    """NL GOV profile, Representation Relationships: with a `represents` claim the BSN would
    not be the person the attestations are about."""
    if "represents" in claims:
        raise RepresentationRefused("ID token has a represents claim (login on behalf of)")


ID_TOKEN_CHECKS: tuple[Callable[[Claims, Expected], None], ...] = (
    check_issuer,
    check_audience,
    check_times,
    check_nonce,
    check_subject,
    check_at_hash,
    check_acr,
    check_no_representation,
)


def read_bsn(claims: Mapping[str, Any], name: str, sector_code: str | None = None) -> str:
    """The BSN in claim `name`: nine ASCII digits, optionally behind `<sector code>:` when the
    broker passes DigiD's sector prefix (e.g. `s00000000:`, which must then be the one
    configured). A number is refused: a BSN may begin with 0."""
    value = claims.get(name)
    if not isinstance(value, str):
        raise BsnUnavailable(f"BSN claim {name!r} missing or not a string")
    if sector_code is not None:
        sector, sep, value = value.partition(":")
        if not sep or sector.casefold() != sector_code.casefold():
            raise BsnUnavailable(f"BSN claim {name!r} lacks sector code {sector_code!r}")
    if not BSN_SHAPE.fullmatch(value):
        raise BsnUnavailable(f"BSN claim {name!r} is not nine digits")
    return value
