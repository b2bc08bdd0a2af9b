"""Error types of the SD-JWT library (RFC 9901).

Every rejection has its own class with a stable machine-readable ``code``, so callers can map
them to protocol errors (OpenID4VP, problem+json) without parsing messages. Messages are meant
for logs and never contain disclosed claim values.
"""

from __future__ import annotations


class SdJwtError(Exception):
    """Base class of every error raised by ``attestations.sdjwt``."""

    code = "sd_jwt_error"


# --- structure (RFC 9901 §4, §8) -------------------------------------------------------------


class MalformedSdJwt(SdJwtError):
    """The SD-JWT, its Issuer-signed JWT or its embedded digests are not well-formed."""

    code = "malformed_sd_jwt"


class MalformedDisclosure(SdJwtError):
    """A Disclosure is not base64url-encoded JSON array of 2 or 3 elements (RFC 9901 §4.2)."""

    code = "malformed_disclosure"


class ForbiddenClaimName(SdJwtError):
    """A Disclosure uses the claim name ``_sd`` or ``...`` (RFC 9901 §4.2.1, §7.1 step 3.3.2.2)."""

    code = "forbidden_claim_name"


# --- Issuer-signed JWT (RFC 9901 §7.1 step 2) ------------------------------------------------


class UnsupportedAlgorithm(SdJwtError):
    """The JWS ``alg`` is not on the allow-list (``none`` never is)."""

    code = "unsupported_algorithm"


class UnsupportedCriticalHeader(SdJwtError):
    """The JWS header carries ``crit``; no extension is understood (RFC 7515 §4.1.11)."""

    code = "unsupported_critical_header"


class WrongType(SdJwtError):
    """The JWS header ``typ`` is not the expected explicit type (RFC 9901 §9.11)."""

    code = "wrong_type"


class IssuerKeyUnresolved(SdJwtError):
    """The key resolver found no acceptable Issuer key for this SD-JWT."""

    code = "issuer_key_unresolved"


class InvalidSignature(SdJwtError):
    """The Issuer signature does not verify with the resolved key."""

    code = "invalid_signature"


class UnsupportedSdAlg(SdJwtError):
    """The ``_sd_alg`` hash algorithm is unknown or not allowed (RFC 9901 §4.1.1)."""

    code = "unsupported_sd_alg"


# --- digests and Disclosures (RFC 9901 §7.1 step 3-5) ----------------------------------------


class DuplicateDigest(SdJwtError):
    """A digest value occurs more than once in the payload or Disclosures (§7.1 step 4)."""

    code = "duplicate_digest"


class DuplicateDisclosure(SdJwtError):
    """The same Disclosure is presented more than once (RFC 9901 §4)."""

    code = "duplicate_disclosure"


class UnreferencedDisclosure(SdJwtError):
    """A Disclosure is not referenced by any digest (RFC 9901 §7.1 step 5)."""

    code = "unreferenced_disclosure"


class ClaimNameCollision(SdJwtError):
    """A disclosed claim name already exists at its level (RFC 9901 §7.1 step 3.3.2.3)."""

    code = "claim_name_collision"


class DisclosureKindMismatch(SdJwtError):
    """An array-element Disclosure is referenced from ``_sd`` or vice versa (§7.1 step 3.3)."""

    code = "disclosure_kind_mismatch"


# --- validity of the processed payload (RFC 9901 §7.1 step 6) ---------------------------------


class Expired(SdJwtError):
    """``exp`` has passed (beyond the leeway)."""

    code = "expired"


class NotYetValid(SdJwtError):
    """``nbf`` is still in the future (beyond the leeway)."""

    code = "not_yet_valid"


class IssuedInFuture(SdJwtError):
    """``iat`` is in the future (beyond the leeway)."""

    code = "issued_in_future"


class MissingRequiredClaim(SdJwtError):
    """A claim the verifier requires is absent from the processed payload."""

    code = "missing_required_claim"


class WrongIssuer(SdJwtError):
    """``iss`` is not the expected Issuer."""

    code = "wrong_issuer"


# --- Key Binding (RFC 9901 §4.3, §7.3) -------------------------------------------------------


class KeyBindingRequired(SdJwtError):
    """Key Binding is required by policy but the presentation has no KB-JWT (§7.3 step 2)."""

    code = "key_binding_required"


class KeyBindingInvalid(SdJwtError):
    """Base class of every KB-JWT rejection (RFC 9901 §7.3 step 5)."""

    code = "key_binding_invalid"


class KbMalformed(KeyBindingInvalid):
    """The KB-JWT is not a well-formed JWT with the claims of RFC 9901 §4.3."""

    code = "kb_malformed"


class KbUnexpected(KeyBindingInvalid):
    """A KB-JWT is present where none may be (Holder receipt, or no nonce/audience to check)."""

    code = "kb_unexpected"


class KbNoHolderKey(KeyBindingInvalid):
    """The SD-JWT has no usable ``cnf.jwk`` Holder public key (RFC 9901 §4.1.2)."""

    code = "kb_no_holder_key"


class KbUnsupportedAlgorithm(KeyBindingInvalid):
    """The KB-JWT ``alg`` is not on the allow-list."""

    code = "kb_unsupported_algorithm"


class KbBadSignature(KeyBindingInvalid):
    """The KB-JWT signature does not verify with the Holder key."""

    code = "kb_bad_signature"


class KbWrongType(KeyBindingInvalid):
    """The KB-JWT header ``typ`` is not ``kb+jwt``."""

    code = "kb_wrong_type"


class KbWrongNonce(KeyBindingInvalid):
    """The KB-JWT ``nonce`` is not the one the verifier issued."""

    code = "kb_wrong_nonce"


class KbWrongAudience(KeyBindingInvalid):
    """The KB-JWT ``aud`` is not this verifier."""

    code = "kb_wrong_audience"


class KbWrongSdHash(KeyBindingInvalid):
    """The KB-JWT ``sd_hash`` does not match the presented SD-JWT (RFC 9901 §4.3.1)."""

    code = "kb_wrong_sd_hash"


class KbStale(KeyBindingInvalid):
    """The KB-JWT is older than the verifier's freshness window (or has expired)."""

    code = "kb_stale"


class KbIssuedInFuture(KeyBindingInvalid):
    """The KB-JWT ``iat`` (or ``nbf``) is in the future beyond the leeway."""

    code = "kb_issued_in_future"


# --- misuse by the Issuer or Holder side of this library --------------------------------------


class IssuanceError(SdJwtError):
    """The Issuer was asked to build an SD-JWT from invalid input."""

    code = "issuance_error"


class PresentationError(SdJwtError):
    """The Holder was asked to build an invalid presentation."""

    code = "presentation_error"


class ClaimNotFound(PresentationError):
    """A claim path selected by the Holder does not exist in the credential."""

    code = "claim_not_found"
