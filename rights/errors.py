"""The residents' rights' errors: problems (RFC 9457) of the one error model in
`core.errors`, so the API answers them as problem+json and the CLI prints their detail. Their
messages never repeat what the caller typed: a refused reason may hold personal data."""

from __future__ import annotations

from core import InvalidInput, NotFound


class ErasureError(InvalidInput):
    """An erasure request that cannot be accepted as given."""

    slug = "erasure-refused"
    title = "The erasure request cannot be accepted"


class ReasonLooksPersonal(ErasureError):
    def __init__(self, kind: str = "personal data") -> None:
        super().__init__(
            f"the text looks like it contains {kind}; describe it without personal data "
            "(e-mail addresses, postcodes, dates, phone numbers)"
        )


class UnknownField(ErasureError):
    def __init__(self, fields: tuple[str, ...]) -> None:
        super().__init__(f"field must be one of: {', '.join(fields)}")


class NoteRequired(ErasureError):
    def __init__(self) -> None:
        super().__init__("say how the platform was told (for example: by e-mail to its admin)")


class UnknownAccount(ErasureError):
    status = 404

    def __init__(self) -> None:
        super().__init__("no such account")


class NotOpen(ErasureError):
    status = 404

    def __init__(self) -> None:
        super().__init__("no open erasure request with this id (it is unknown or completed)")


class NothingPending(ErasureError):
    status = 409

    def __init__(self) -> None:
        super().__init__("that platform has nothing pending for this erasure request")


class NoConsents(NotFound):
    """The resident holds no consent records for that platform (no receipt to give)."""

    def __init__(self, client_id: str) -> None:
        super().__init__("No consents for this platform.")
        self.client_id = client_id
