"""The runtime builds the attestation and verifier configs once, from the settings."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from attestations.verifier.x509 import write_development_ca
from core.db import Database
from service.runtime import build_runtime
from tests.conftest import TEST_ISSUER, make_settings


def test_configs_follow_the_settings(tmp_path: Path, db: Database, database_url: str) -> None:
    settings = make_settings(
        tmp_path / "data", database_url, verifier_session_ttl=42, verifier_result_ttl=77
    )
    runtime = build_runtime(settings, db)

    assert runtime.attestations.issuer == TEST_ISSUER
    assert runtime.verifier.issuer == TEST_ISSUER
    assert runtime.verifier.session_ttl == dt.timedelta(seconds=42)
    assert runtime.verifier.result_ttl == dt.timedelta(seconds=77)
    assert runtime.verifier.pseudonym_key and runtime.verifier.fetcher is not None
    assert runtime.verifier.fetcher.allow_http  # development: http to loopback
    assert runtime.verifier.signer is None
    assert runtime.verifier.client_id.startswith("redirect_uri:")


def test_production_fetches_only_https(tmp_path: Path, db: Database, database_url: str) -> None:
    settings = make_settings(tmp_path / "data", database_url, mode="production")
    fetcher = build_runtime(settings, db).verifier.fetcher
    assert fetcher is not None and not fetcher.allow_http


def test_x509_files_give_the_x509_san_dns_identity(
    tmp_path: Path, db: Database, database_url: str
) -> None:
    paths = write_development_ca(tmp_path / "ca", "testserver")
    settings = make_settings(
        tmp_path / "data",
        database_url,
        verifier_x509_key_file=paths["key"],
        verifier_x509_chain_file=paths["chain"],
    )
    config = build_runtime(settings, db).verifier
    assert config.x509_files == (paths["key"], paths["chain"])
    assert config.client_id == "x509_san_dns:testserver"


def test_a_renewed_certificate_is_used_without_a_new_config(
    tmp_path: Path, db: Database, database_url: str
) -> None:
    paths = write_development_ca(tmp_path / "ca", "testserver")
    settings = make_settings(
        tmp_path / "data",
        database_url,
        verifier_x509_key_file=paths["key"],
        verifier_x509_chain_file=paths["chain"],
    )
    config = build_runtime(settings, db).verifier
    before = config.signer
    assert before is not None
    renewed = write_development_ca(tmp_path / "ca2", "testserver")
    paths["key"].write_bytes(renewed["key"].read_bytes())
    paths["chain"].write_bytes(renewed["chain"].read_bytes())
    for path in (paths["key"], paths["chain"]):  # a later mtime, whatever the clock's grain
        stamp = path.stat().st_mtime_ns + 1_000_000_000
        os.utime(path, ns=(stamp, stamp))
    after = config.signer
    assert after is not None and after.x5c != before.x5c
