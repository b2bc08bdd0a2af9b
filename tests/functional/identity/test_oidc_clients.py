"""Client registration: the operator CLI and RFC 7591 dynamic registration."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from identity.oidc.cli import clients_cli
from identity.oidc.models import Client
from service.runtime import Runtime


def run(runtime: Runtime, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(clients_cli, list(args), obj=runtime)
    return result.exit_code, result.output


def test_cli_add_prints_secret_once_and_stores_only_its_hash(
    runtime: Runtime, session: Session
) -> None:
    code, out = run(
        runtime,
        "add",
        "--name",
        "Decidim Amsterdam",
        "--redirect-uri",
        "https://decidim.example.nl/users/auth/kluis/callback",
        "--purpose",
        "Stemmen",
        "--json",
    )
    assert code == 0, out
    data = json.loads(out)
    assert data["client_id"].startswith("kc_") and len(data["client_secret"]) >= 40
    assert data["subject_type"] == "pairwise" and data["sector_identifier"] == "decidim.example.nl"
    row = session.get(Client, data["client_id"])
    assert row is not None and data["client_secret"] not in (row.secret_hash or "")
    code, shown = run(runtime, "show", data["client_id"], "--json")
    assert code == 0 and "client_secret" not in json.loads(shown)
    code, rotated = run(runtime, "rotate-secret", data["client_id"], "--json")
    assert json.loads(rotated)["client_secret"] != data["client_secret"]
    code, listed = run(runtime, "list", "--json")
    assert data["client_id"] in {c["client_id"] for c in json.loads(listed)}
    assert run(runtime, "remove", data["client_id"])[0] == 0
    assert run(runtime, "show", data["client_id"])[0] != 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--redirect-uri", "http://evil.example/cb"], "https"),
        (["--redirect-uri", "https://a.example/cb#frag"], "fragment"),
        (
            ["--redirect-uri", "https://a.example/cb", "--redirect-uri", "https://b.example/cb"],
            "sector_identifier_uri",
        ),
        (
            [
                "--redirect-uri",
                "https://a.example/cb",
                "--public",
                "--auth-method",
                "client_secret_basic",
            ],
            "public",
        ),
    ],
)
def test_cli_add_rejects_bad_metadata(runtime: Runtime, args: list[str], message: str) -> None:
    code, out = run(runtime, "add", "--name", "X", *args)
    assert code != 0 and message in out


def test_public_client_and_loopback_redirects(runtime: Runtime) -> None:
    code, out = run(
        runtime,
        "add",
        "--name",
        "App",
        "--public",
        "--redirect-uri",
        "http://127.0.0.1:9999/cb",
        "--json",
    )
    assert code == 0, out
    data = json.loads(out)
    assert data["token_endpoint_auth_method"] == "none" and "client_secret" not in data


def test_dynamic_registration_needs_a_single_use_initial_access_token(
    client: TestClient, runtime: Runtime
) -> None:
    metadata = {"client_name": "Nextcloud", "redirect_uris": ["https://cloud.example.nl/cb"]}
    assert client.post("/connect/register", json=metadata).status_code == 401
    wrong = client.post("/connect/register", json=metadata, headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_token"
    code, out = run(runtime, "registration-token", "--json")
    assert code == 0, out
    token = json.loads(out)["initial_access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    bad = client.post(
        "/connect/register", json={"redirect_uris": ["ftp://x"], "client_name": "x"}, headers=auth
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_redirect_uri"
    created = client.post("/connect/register", json=metadata, headers=auth)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["client_secret"] and body["client_id_issued_at"] > 0
    again = client.post("/connect/register", json=metadata, headers=auth)
    assert again.status_code == 401  # single use


def test_dynamic_registration_gives_pairwise_subjects_only(
    client: TestClient, runtime: Runtime
) -> None:
    """A public `sub` is the account id, the same at every platform: an operator's decision
    (`--subject-type public`), not a registrant's."""
    code, out = run(runtime, "registration-token", "--json")
    assert code == 0, out
    auth = {"Authorization": f"Bearer {json.loads(out)['initial_access_token']}"}
    metadata = {"client_name": "Forum", "redirect_uris": ["https://forum.example.nl/cb"]}
    refused = client.post(
        "/connect/register", json={**metadata, "subject_type": "public"}, headers=auth
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_client_metadata"
    assert "pairwise" in refused.json()["error_description"]
    # nothing changed: the token is still unused, and a pairwise registration goes through
    created = client.post(
        "/connect/register", json={**metadata, "subject_type": "pairwise"}, headers=auth
    )
    assert created.status_code == 201, created.text
    assert created.json()["subject_type"] == "pairwise"


def test_production_refuses_loopback_targets_that_kluis_would_call(
    client: TestClient, runtime: Runtime, app: object
) -> None:
    runtime.settings.mode = "production"
    code, out = run(
        runtime,
        "add",
        "--name",
        "SSRF",
        "--redirect-uri",
        "https://p.example/cb",
        "--backchannel-logout-uri",
        "http://127.0.0.1:6379/",
        "--json",
    )
    assert code != 0 and "https" in out
    code, out = run(runtime, "registration-token", "--json")
    token = json.loads(out)["initial_access_token"]
    response = client.post(
        "/connect/register",
        json={
            "client_name": "x",
            "redirect_uris": ["https://p.example/cb"],
            "sector_identifier_uri": "http://127.0.0.1:5432/",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"
