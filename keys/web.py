"""The routers' access to the keys the runtime built (kept on `app.state` by `service.app`):
one accessor each, for every package's routers."""

from __future__ import annotations

from fastapi import Request

from keys.signing import Keyring
from keys.subject import SubjectKeys


def keyring_of(request: Request) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


def subject_keys_of(request: Request) -> SubjectKeys:
    subject_keys: SubjectKeys = request.app.state.subject_keys
    return subject_keys
