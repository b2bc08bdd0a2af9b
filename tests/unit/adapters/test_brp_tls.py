"""The registry over mutual TLS, as the BRP API is reached in production with a PKIoverheid
client certificate: a local registry on loopback (HTTPS, client certificate required, every
request checked against the official contract) and throw-away certificates made here. And the
checks `client_tls` makes at start, so a wrong file is a clear configuration error."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters import (
    ApiKey,
    ClientCertificate,
    HttpRegistry,
    RegistryRecord,
    RegistryUnavailable,
    TlsConfigError,
    client_tls,
)
from tests.support.brp_people import BSN, person
from tests.support.brp_server import LocalRegistry, run_registry
from tests.support.tls_certs import Pki, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("brp_pki"))


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Another CA, whose client certificate the registry does not accept."""
    return make_pki(tmp_path_factory.mktemp("brp_stranger"))


@pytest.fixture
def registry(pki: Pki) -> Iterator[LocalRegistry]:
    with run_registry({BSN: person()}, tls=pki.server_context()) as local:
        yield local


def lookup(
    registry: LocalRegistry, client: ClientCertificate | None = None, **tls: Any
) -> RegistryRecord:
    http = HttpRegistry(
        registry.url, ApiKey("k3y"), tls=client_tls(client, **tls), retries=0, timeout=5
    )
    try:
        return http.lookup(BSN)
    finally:
        http.close()


def test_the_registry_is_asked_over_mutual_tls_with_the_client_certificate(
    registry: LocalRegistry, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="kluis.tls"):
        record = lookup(registry, client=pki.client, ca_file=pki.ca_file, what="registry")

    assert record is not None and registry.violations == []
    assert registry.url.startswith("https://")
    assert registry.client_subjects == ["kluis.gemeente.test"]
    assert registry.api_keys == ["k3y"]
    (loaded,) = [r for r in caplog.records if r.name == "kluis.tls"]
    assert loaded.to == "registry"  # type: ignore[attr-defined]


def test_without_a_client_certificate_the_registry_refuses_the_handshake(
    registry: LocalRegistry, pki: Pki
) -> None:
    with pytest.raises(RegistryUnavailable, match=r"TLS.*client certificate") as caught:
        lookup(registry, ca_file=pki.ca_file)
    assert caught.value.resident_key == "registry.unavailable"
    assert registry.client_subjects == []


def test_a_client_certificate_of_another_ca_is_refused(
    registry: LocalRegistry, pki: Pki, stranger: Pki
) -> None:
    with pytest.raises(RegistryUnavailable, match="TLS"):
        lookup(registry, client=stranger.client, ca_file=pki.ca_file)
    assert registry.client_subjects == []


def test_a_registry_certificate_the_ca_bundle_does_not_vouch_for_is_refused(
    registry: LocalRegistry, pki: Pki, stranger: Pki
) -> None:
    with pytest.raises(RegistryUnavailable, match="TLS"):
        lookup(registry, client=pki.client, ca_file=stranger.ca_file)
    with pytest.raises(RegistryUnavailable, match="TLS"):  # the system's CAs: not either
        lookup(registry, client=pki.client)
    assert registry.fake.bodies == []


# --- checked at start -----------------------------------------------------------------------


def test_missing_files_are_named(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(
        TlsConfigError, match=re.escape(f"client certificate {missing} cannot be read")
    ):
        client_tls(ClientCertificate(missing, pki.client_key))
    with pytest.raises(TlsConfigError, match=re.escape(f"client key {missing} cannot be read")):
        client_tls(ClientCertificate(pki.client_cert, missing))
    with pytest.raises(TlsConfigError, match=re.escape(f"CA bundle {missing} cannot be read")):
        client_tls(ca_file=missing)


def test_a_key_of_another_certificate_is_refused_without_showing_it(
    pki: Pki, stranger: Pki
) -> None:
    with pytest.raises(TlsConfigError, match="does not belong to the certificate") as caught:
        client_tls(ClientCertificate(pki.client_cert, stranger.client_key))
    assert "PRIVATE KEY" not in str(caught.value)


def test_an_encrypted_key_is_refused_instead_of_prompting(pki: Pki, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pki.client_key.read_bytes(), None)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"geheim"),
        )
    )
    with pytest.raises(TlsConfigError, match="unencrypted PEM key"):
        client_tls(ClientCertificate(pki.client_cert, encrypted))


def test_an_expired_or_future_certificate_is_refused_at_start(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    old = make_pki(
        tmp_path / "old",
        client_not_before=now - dt.timedelta(days=400),
        client_not_after=now - dt.timedelta(days=1),
    )
    with pytest.raises(TlsConfigError, match="expired on"):
        client_tls(old.client)
    future = make_pki(
        tmp_path / "future",
        client_not_before=now + dt.timedelta(days=2),
        client_not_after=now + dt.timedelta(days=3),
    )
    with pytest.raises(TlsConfigError, match="valid only from"):
        client_tls(future.client)


def test_files_that_are_not_pem_are_refused(pki: Pki, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(TlsConfigError, match="holds no PEM certificate"):
        client_tls(ClientCertificate(junk, pki.client_key))
    with pytest.raises(TlsConfigError, match=r"CA bundle .* holds no usable PEM certificate"):
        client_tls(ca_file=junk)
