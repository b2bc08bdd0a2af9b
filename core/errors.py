"""Error types that become HTTP responses in one place (`service.app`).

Two families:
- `Problem`: RFC 9457 problem details (`application/problem+json`) for Kluis's own APIs.
- `OAuthError`: RFC 6749 §5.2 / OIDC Core §3.1.2.6 error responses, carrying the registered
  `error` code and HTTP status, for OAuth and OpenID endpoints.
"""

from __future__ import annotations

from typing import ClassVar

PROBLEM_BASE = "urn:kluis:problem:"


class Problem(Exception):
    """RFC 9457 problem. `slug` becomes the problem type URI; `detail` is shown to the caller,
    so it must never contain personal data or internals."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        title: str | None = None,
        slug: str | None = None,
        **extensions: object,
    ) -> None:
        super().__init__(detail or title or self.title)
        self.slug_text = slug or self.slug
        self.status_code = status or self.status
        self.title_text = title or self.title
        self.detail = detail or self.title_text
        self.extensions = extensions

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.slug_text

    def to_dict(self, instance: str | None = None) -> dict[str, object]:
        body: dict[str, object] = {
            "type": self.type_uri,
            "title": self.title_text,
            "status": self.status_code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class InvalidInput(Problem):
    status = 422
    slug = "invalid-input"
    title = "The request is not valid"


class NotFound(Problem):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(Problem):
    status = 409
    slug = "conflict"
    title = "Conflict"


class Unauthorized(Problem):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"


class Forbidden(Problem):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class TooManyRequests(Problem):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ServiceUnavailable(Problem):
    """The database cannot be reached (during a failover, for a few seconds). The request was
    not confirmed; it can be sent again after `retry_after` seconds. (Only when the connection
    broke while a commit was under way can it have taken effect: a retry then meets its own
    result, e.g. a code already used.)"""

    status = 503
    slug = "unavailable"
    title = "Temporarily unavailable"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class OAuthError(Exception):
    """An OAuth 2.0 error response. Subclasses fix `error` and `status`."""

    error: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400

    def __init__(self, description: str | None = None, *, uri: str | None = None) -> None:
        super().__init__(description or self.error)
        self.description = description
        self.uri = uri

    def to_dict(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        if self.uri:
            body["error_uri"] = self.uri
        return body

    def headers(self) -> dict[str, str]:
        return {"Cache-Control": "no-store", "Pragma": "no-cache"}


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    """RFC 6749 §5.2: 401 with a WWW-Authenticate challenge when the client tried HTTP Basic."""

    error = "invalid_client"
    status = 401

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "WWW-Authenticate": 'Basic realm="kluis"'}


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class AccessDenied(OAuthError):
    error = "access_denied"
    status = 403


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class ServerError(OAuthError):
    error = "server_error"
    status = 500


class TemporarilyUnavailable(OAuthError):
    error = "temporarily_unavailable"
    status = 503


class SlowDown(OAuthError):
    error = "slow_down"
    status = 429


class InteractionRequired(OAuthError):
    error = "interaction_required"


class LoginRequired(OAuthError):
    error = "login_required"


class ConsentRequired(OAuthError):
    error = "consent_required"


class InvalidRequestUri(OAuthError):
    error = "invalid_request_uri"


class InvalidRequestObject(OAuthError):
    error = "invalid_request_object"


class InvalidToken(OAuthError):
    """RFC 6750 §3.1: bearer token errors answer 401 with a WWW-Authenticate challenge."""

    error = "invalid_token"
    status = 401

    def headers(self) -> dict[str, str]:
        challenge = f'Bearer error="{self.error}"'
        if self.description:
            challenge += f', error_description="{self.description}"'
        return {**super().headers(), "WWW-Authenticate": challenge}


class InsufficientScope(InvalidToken):
    error = "insufficient_scope"
    status = 403
