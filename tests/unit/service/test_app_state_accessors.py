"""The one accessor set for what the runtime keeps on `app.state`: each returns the object
the runtime built, the same one on every request."""

from __future__ import annotations

from fastapi import FastAPI, Request

from attestations.web import attestation_config, verifier_config
from identity.oidc.provider import provider_of
from keys import keyring_of, subject_keys_of
from service.runtime import Runtime


def _request(app: FastAPI) -> Request:
    return Request({"type": "http", "app": app, "headers": [], "method": "GET", "path": "/"})


def test_accessors_return_the_runtime_objects(app: FastAPI, runtime: Runtime) -> None:
    first, second = _request(app), _request(app)

    assert keyring_of(first) is runtime.keyring
    assert subject_keys_of(first) is runtime.subject_keys
    assert provider_of(first) is runtime.oidc
    assert attestation_config(first) is runtime.attestations
    assert verifier_config(first) is runtime.verifier is verifier_config(second)
