"""Errors of the built-in wallet pages (each maps to a page the resident understands)."""

from __future__ import annotations

from core import NotFound


class SessionEnded(NotFound):
    slug = "wallet-session-ended"
    title = "This request is no longer open"


class OpenedByAnotherAccount(NotFound):
    slug = "wallet-session-taken"
    title = "This request was opened on another account"


class PairingFailed(Exception):
    def __init__(self, attempts_left: int) -> None:
        super().__init__("wrong pairing code")
        self.attempts_left = attempts_left


class NoMatchingCredential(Exception):
    """The resident's built-in wallet holds nothing that satisfies the query."""
