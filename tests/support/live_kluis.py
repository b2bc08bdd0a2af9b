"""Provisioning a running Kluis (tests/support/server.py) through its operator CLI, and the
relying-party configuration the harnesses (rp.mjs, authlib_rp.py, the benchmark) take."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.server import LiveServer


def add_resident(
    server: LiveServer, email: str, password: str, name: str | None = None
) -> dict[str, Any]:
    """``kluis accounts add --email E --password P [--name N] --json``."""
    args = ["accounts", "add", "--email", email, "--password", password, "--json"]
    if name:
        args += ["--name", name]
    created: dict[str, Any] = json.loads(server.cli(*args).stdout)
    return created


def add_client(
    server: LiveServer,
    name: str,
    redirect_uri: str,
    post_logout_redirect_uri: str | None = None,
    *,
    public: bool = False,
    auth_method: str | None = None,
    jwks: dict[str, Any] | None = None,
    work_dir: Path | None = None,
    backchannel_logout_uri: str | None = None,
    events_uri: str | None = None,
) -> dict[str, Any]:
    """``kluis clients add … --json``: client_id, client_secret (confidential clients), …"""
    args = ["clients", "add", "--name", name, "--redirect-uri", redirect_uri, "--json"]
    if post_logout_redirect_uri:
        args += ["--post-logout-redirect-uri", post_logout_redirect_uri]
    if backchannel_logout_uri:
        args += ["--backchannel-logout-uri", backchannel_logout_uri]
    if events_uri:
        args += ["--events-uri", events_uri]
    if public:
        args.append("--public")
    if auth_method:
        args += ["--auth-method", auth_method]
    if jwks is not None:
        if work_dir is None:
            raise ValueError("a client with a JWKS needs a work_dir for the JWKS file")
        path = work_dir / f"jwks-{name.replace(' ', '-')}.json"
        path.write_text(json.dumps(jwks))
        args += ["--jwks-file", str(path)]
    client: dict[str, Any] = json.loads(server.cli(*args).stdout)
    return client


def rp_config(
    server: LiveServer,
    client: dict[str, Any],
    *,
    email: str,
    password: str,
    redirect_uri: str,
    post_logout_redirect_uri: str,
    claims_to_allow: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The config of tests/e2e/node/rp.mjs and tests/support/authlib_rp.run_authlib_flow."""
    config = {
        "issuer": server.url,
        "client_id": client["client_id"],
        "redirect_uri": redirect_uri,
        "post_logout_redirect_uri": post_logout_redirect_uri,
        "email": email,
        "password": password,
        "claims_to_allow": claims_to_allow,
        "token_endpoint_auth_method": client["token_endpoint_auth_method"],
        **extra,
    }
    if client.get("client_secret"):
        config["client_secret"] = client["client_secret"]
    return config
