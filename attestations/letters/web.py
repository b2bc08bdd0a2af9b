"""The letters routers' view of the running service."""

from __future__ import annotations

from fastapi import Request

from attestations.letters.config import LettersConfig, letters_config
from attestations.web import attestation_config


def config_of(request: Request) -> LettersConfig:
    return letters_config(request.app.state.settings, attestation_config(request))
