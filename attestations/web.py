"""The attestation routers' view of the running service: the configs the runtime built once
at start (`service.runtime.build_runtime`), read from `app.state.runtime`."""

from __future__ import annotations

from fastapi import Request

from attestations.config import AttestationConfig
from attestations.municipality import MunicipalitySource
from attestations.verifier.config import VerifierConfig


def attestation_config(request: Request) -> AttestationConfig:
    config: AttestationConfig = request.app.state.runtime.attestations
    return config


def verifier_config(request: Request) -> VerifierConfig:
    config: VerifierConfig = request.app.state.runtime.verifier
    return config


def municipality_of(request: Request) -> MunicipalitySource | None:
    """The municipality source (broker and registry), or None when it is not configured."""
    source: MunicipalitySource | None = request.app.state.runtime.municipality
    return source
