"""The settings of the municipality source beyond a client secret and an API key: mutual TLS to
the registry (a PKIoverheid client certificate), and `private_key_jwt` or `tls_client_auth` at
the DigiD broker. Half a configuration, or a file that cannot serve, stops the start with a
message that names the settings (never a key's contents)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters import HttpRegistry, OidcUpstream
from service.runtime import build_municipality
from service.settings import SettingsError, load_settings
from tests.support.tls_certs import Pki, make_pki

GOOD_SECRET = "Zb7m1wq0Vf3kPp9r2Lx8Ns4Hc6Ty5Ud1Ge0Ja7Ki3Mo"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("KLUIS_") and key != "KLUIS_TEST_DATABASE_URL":
            monkeypatch.delenv(key)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("brp_settings_pki"))


def settings(tmp_path: Path, **overrides: Any) -> Any:
    base: dict[str, Any] = {
        "data_dir": tmp_path,
        "secret_key": GOOD_SECRET,
        "brp_url": "https://brp.example/haalcentraal/api/brp",
        "brp_api_key": "registry-key",
        "upstream_issuer": "https://broker.example",
        "upstream_client_id": "kluis",
        "upstream_client_secret": "broker-secret",
    }
    return load_settings(**(base | overrides))


@pytest.mark.parametrize("side", ["brp", "upstream"])
def test_a_client_certificate_without_its_key_is_refused(
    tmp_path: Path, pki: Pki, side: str
) -> None:
    with pytest.raises(SettingsError, match=f"KLUIS_{side.upper()}_TLS_KEY_FILE"):
        settings(tmp_path, **{f"{side}_tls_cert_file": pki.client_cert})
    with pytest.raises(SettingsError, match=f"KLUIS_{side.upper()}_TLS_CERT_FILE"):
        settings(tmp_path, **{f"{side}_tls_key_file": pki.client_key})


def test_each_client_authentication_asks_for_what_it_needs(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="KLUIS_UPSTREAM_ASSERTION_KEY_FILE"):
        settings(tmp_path, upstream_client_auth="private_key_jwt", upstream_client_secret=None)
    with pytest.raises(SettingsError, match="KLUIS_UPSTREAM_TLS_CERT_FILE"):
        settings(tmp_path, upstream_client_auth="tls_client_auth", upstream_client_secret=None)
    with pytest.raises(SettingsError, match="KLUIS_UPSTREAM_CLIENT_SECRET"):
        settings(tmp_path, upstream_client_secret=None)


def test_mutual_tls_and_private_key_jwt_are_wired_at_start(tmp_path: Path, pki: Pki) -> None:
    key_file = tmp_path / "assertion.pem"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    configured = settings(
        tmp_path,
        upstream_client_auth="private_key_jwt",
        upstream_client_secret=None,
        upstream_assertion_key_file=key_file,
        upstream_assertion_key_id="kluis-2026",
        upstream_ca_file=pki.ca_file,
        brp_tls_cert_file=pki.client_cert,
        brp_tls_key_file=pki.client_key,
        brp_ca_file=pki.ca_file,
    )

    source = build_municipality(configured)

    assert source is not None
    assert isinstance(source.upstream, OidcUpstream) and isinstance(source.registry, HttpRegistry)
    config = source.upstream.config
    assert config.client_auth == "private_key_jwt" and config.tls is not None
    assert config.assertion_key is not None and config.assertion_key.kid == "kluis-2026"
    assert "PRIVATE" not in repr(config) and "broker-secret" not in repr(config)
    source.upstream.close()
    source.registry.close()


def test_files_that_cannot_serve_stop_the_start_naming_the_setting(
    tmp_path: Path, pki: Pki
) -> None:
    now = dt.datetime.now(dt.UTC)
    expired = make_pki(
        tmp_path / "expired",
        client_not_before=now - dt.timedelta(days=30),
        client_not_after=now - dt.timedelta(days=1),
    )
    configured = settings(
        tmp_path, brp_tls_cert_file=expired.client_cert, brp_tls_key_file=expired.client_key
    )
    with pytest.raises(SettingsError, match=r"KLUIS_BRP_TLS_CERT_FILE.*expired on"):
        build_municipality(configured)

    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----\n")
    configured = settings(
        tmp_path,
        upstream_client_auth="private_key_jwt",
        upstream_assertion_key_file=not_a_key,
    )
    with pytest.raises(SettingsError, match="KLUIS_UPSTREAM_ASSERTION_KEY_FILE") as caught:
        build_municipality(configured)
    assert "bm9wZQ" not in str(caught.value)
