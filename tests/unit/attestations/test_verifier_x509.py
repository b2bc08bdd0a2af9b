"""The verifier's X.509 identity: what `load_request_signer` accepts and refuses, and the
development CA that `kluis verifier dev-ca` writes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509

from attestations.verifier.cli import verifier_cli
from attestations.verifier.x509 import (
    DEV_CA_NAME,
    X509ConfigError,
    load_request_signer,
    write_development_ca,
)
from service.cli import check_verifier_identity
from service.settings import SettingsError, load_settings


def test_dev_ca_command_writes_a_loadable_identity_marked_development(tmp_path: Path) -> None:
    result = CliRunner().invoke(verifier_cli, ["dev-ca", "--out", str(tmp_path), "--dns", "h.nl"])

    assert result.exit_code == 0, result.output
    assert "DEVELOPMENT ONLY" in result.output
    assert f"KLUIS_VERIFIER_X509_CHAIN_FILE={tmp_path / 'verifier-chain.pem'}" in result.output
    assert stat.S_IMODE((tmp_path / "verifier-key.pem").stat().st_mode) == 0o600
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    assert DEV_CA_NAME in ca.subject.rfc4514_string()
    signer = load_request_signer(
        tmp_path / "verifier-key.pem", tmp_path / "verifier-chain.pem", "https://h.nl"
    )
    assert signer.dns_name == "h.nl" and len(signer.x5c) == 1


def test_a_certificate_without_the_issuer_host_is_refused(tmp_path: Path) -> None:
    paths = write_development_ca(tmp_path, "kluis.example.nl")

    with pytest.raises(X509ConfigError, match="dNSName"):
        load_request_signer(paths["key"], paths["chain"], "https://other.example.nl")


def test_a_key_that_does_not_belong_to_the_leaf_is_refused(tmp_path: Path) -> None:
    first = write_development_ca(tmp_path / "a", "kluis.example.nl")
    second = write_development_ca(tmp_path / "b", "kluis.example.nl")

    with pytest.raises(X509ConfigError, match="not the key's certificate"):
        load_request_signer(second["key"], first["chain"], "https://kluis.example.nl")


def test_the_trust_anchor_is_left_out_of_x5c(tmp_path: Path) -> None:
    paths = write_development_ca(tmp_path, "kluis.example.nl")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(paths["chain"].read_bytes() + paths["ca"].read_bytes())

    signer = load_request_signer(paths["key"], bundle, "https://kluis.example.nl")

    assert len(signer.chain) == 1 and signer.chain[0].issuer != signer.chain[0].subject


def test_serve_refuses_a_certificate_for_another_host(tmp_path: Path) -> None:
    paths = write_development_ca(tmp_path, "elders.example.nl")
    settings = load_settings(
        data_dir=tmp_path / "data",
        issuer="https://kluis.example.nl",
        verifier_x509_key_file=paths["key"],
        verifier_x509_chain_file=paths["chain"],
    )

    with pytest.raises(SettingsError, match="KLUIS_VERIFIER_X509_"):
        check_verifier_identity(settings)


def test_key_and_chain_files_come_together(tmp_path: Path) -> None:
    paths = write_development_ca(tmp_path, "kluis.example.nl")

    with pytest.raises(SettingsError, match="both"):
        load_settings(data_dir=tmp_path / "data", verifier_x509_key_file=paths["key"])
