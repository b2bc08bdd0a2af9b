"""Errors of the verifier.

- Problems (RFC 9457) for the platform API: an invalid DCQL query or request body, a session
  that does not exist for this client.
- OAuth-style errors for the wallet-facing endpoints (OpenID4VP §8.2 response URI).
"""

from __future__ import annotations

from core import InvalidInput, InvalidRequest, NotFound, Problem


class InvalidDcqlQuery(InvalidInput):
    slug = "invalid-dcql-query"
    title = "The DCQL query is not valid"


class InvalidSessionRequest(InvalidInput):
    slug = "invalid-verifier-session"
    title = "The verification session request is not valid"


class SessionNotFound(NotFound):
    slug = "verifier-session-not-found"
    title = "No such verification session"


class RequestObjectGone(NotFound):
    slug = "verifier-request-gone"
    title = "This verification request has ended or does not exist"


class PresentationRejected(InvalidRequest):
    """The wallet's Authorization Response was refused; the description names the check that
    failed and never contains a claim value."""

    error = "invalid_request"


class VerifierNotConfigured(Problem):
    status = 503
    slug = "verifier-not-configured"
    title = "Verification sessions are not configured on this Kluis"


class OriginNotAllowed(Problem):
    """A page on an origin that is not the platform's asked for a session's state."""

    status = 403
    slug = "verifier-origin-not-allowed"
    title = "This origin may not follow the verification session"
