"""Errors of the attestations package.

- `InvalidClaims`: an operator or service asked for a credential with claims its type refuses
  (a problem+json 422; the detail names the field, never echoes its value).
- OpenID4VCI §8.3.1.2 credential request errors, as OAuth error classes the app turns into
  `{"error": ...}` responses in one place.
- `CredentialRejected` and subclasses: why `verify_vc` refused a presentation, each with a
  stable `code` (SD-JWT library errors keep their own code).
"""

from __future__ import annotations

from core import Conflict, InvalidInput, NotFound, OAuthError


class InvalidClaims(InvalidInput):
    slug = "invalid-claims"
    title = "The claims are not valid for this credential type"


class UnknownCredentialType(InvalidInput):
    slug = "unknown-credential-type"
    title = "Unknown credential type"


class AccountNotEligible(Conflict):
    slug = "account-not-eligible"
    title = "This account cannot receive credentials"


class IssuedCredentialNotFound(NotFound):
    slug = "issued-credential-not-found"
    title = "No such issued credential"


# --- OpenID4VCI 1.0 §8.3.1.2 -----------------------------------------------------------------


class InvalidCredentialRequest(OAuthError):
    error = "invalid_credential_request"


class UnknownCredentialConfiguration(OAuthError):
    error = "unknown_credential_configuration"


class UnknownCredentialIdentifier(OAuthError):
    error = "unknown_credential_identifier"


class InvalidProof(OAuthError):
    error = "invalid_proof"


class InvalidNonce(OAuthError):
    error = "invalid_nonce"


class CredentialRequestDenied(OAuthError):
    error = "credential_request_denied"


# --- verification of presented SD-JWT VCs ----------------------------------------------------


class CredentialRejected(Exception):
    """Base class: `verify_vc` refused the presentation. Messages never contain claim values."""

    code = "credential_rejected"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class NotAKluisCredential(CredentialRejected):
    """Not issued by this Kluis, or of a type it does not issue."""

    code = "unknown_issuer_or_type"


class MalformedCredential(CredentialRejected):
    """A claim SD-JWT VC requires is missing, malformed or wrongly made disclosable."""

    code = "malformed_credential"


class CredentialRevoked(CredentialRejected):
    code = "revoked"


class StatusUnavailable(CredentialRejected):
    """The status list could not be resolved or validated: no statement can be made."""

    code = "status_unavailable"
