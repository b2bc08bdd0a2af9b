"""The letters routers' view of the running service."""

from __future__ import annotations

from fastapi import Request

from attestations.letters.config import LettersConfig


def config_of(request: Request) -> LettersConfig:
    config: LettersConfig = request.app.state.runtime.letters  # built once by the runtime
    return config
