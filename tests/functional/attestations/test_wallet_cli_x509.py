"""`kluis wallet present` and an `x509_san_dns:` verifier (OpenID4VP 1.0 §5.9.3): the request
object's certificate chain must lead to a `--trust-anchor`; without one the wallet refuses
(unless `--insecure-skip-chain`, which it warns about). A chain from another CA, or a
certificate for another host, is refused even with anchors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attestations.verifier.x509 import make_development_ca, write_development_ca
from attestations.wallet import cli as wallet_cli_module
from attestations.wallet import holder
from attestations.wallet.cli import wallet_cli
from attestations.wallet.holder_x509 import ChainRefused, request_key
from tests.functional.attestations.conftest import MakeOffer
from tests.functional.attestations.test_verifier import read, start
from tests.support.oidc import RP, make_rp


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


@pytest.fixture
def wallet(
    x509_client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make_offer: MakeOffer
) -> Path:
    """The CLI talks to the in-process app (http://testserver, allowed here like loopback);
    its store holds a postcode credential. Returns the store path."""

    @contextlib.contextmanager
    def client(**_: Any) -> Iterator[TestClient]:
        yield x509_client

    monkeypatch.setattr(wallet_cli_module.httpx, "Client", client)
    monkeypatch.setattr(holder, "LOOPBACK", holder.LOOPBACK | {"testserver"})
    store = tmp_path / "wallet.json"
    offer = make_offer("postcode")
    received = run("receive", offer.offer_uri, "--tx-code", offer.tx_code or "", store=store)
    assert received.exit_code == 0, received.output
    return store


def run(*args: str, store: Path) -> Result:
    return CliRunner().invoke(wallet_cli, [*args, "--store", str(store)])


def other_ca(tmp_path: Path) -> Path:
    return write_development_ca(tmp_path / "other", "testserver")["ca"]


def test_a_chain_to_the_trust_anchor_is_accepted_and_the_claim_shared(
    x509_client: TestClient, rp: RP, wallet: Path, dev_ca: dict[str, Path]
) -> None:
    created = start(x509_client, rp)

    result = run(
        "present", created["qr_payload"], "--trust-anchor", str(dev_ca["ca"]), "--yes", store=wallet
    )

    assert result.exit_code == 0, result.output
    assert "x509_san_dns:testserver asks for" in result.output and "shared" in result.output
    assert read(x509_client, rp, created).json()["status"] == "done"


def test_without_a_trust_anchor_an_x509_request_is_refused_and_says_why(
    x509_client: TestClient, rp: RP, wallet: Path
) -> None:
    created = start(x509_client, rp)

    result = run("present", created["qr_payload"], "--yes", store=wallet)

    assert result.exit_code != 0
    assert "needs a trust anchor" in result.output and "--trust-anchor" in result.output
    assert read(x509_client, rp, created).json()["status"] != "done"


def test_a_chain_from_another_ca_is_refused(
    x509_client: TestClient, rp: RP, wallet: Path, tmp_path: Path
) -> None:
    created = start(x509_client, rp)

    result = run(
        "present", created["qr_payload"], "--trust-anchor", str(other_ca(tmp_path)), "--yes",
        store=wallet,
    )  # fmt: skip

    assert result.exit_code != 0
    assert "does not lead to a trust anchor" in result.output
    assert read(x509_client, rp, created).json()["status"] != "done"


def test_insecure_skip_chain_presents_but_warns(
    x509_client: TestClient, rp: RP, wallet: Path
) -> None:
    created = start(x509_client, rp)

    result = run("present", created["qr_payload"], "--insecure-skip-chain", "--yes", store=wallet)

    assert result.exit_code == 0, result.output
    assert "NOT checked" in result.output
    assert read(x509_client, rp, created).json()["status"] == "done"


def _x5c(*certificates: x509.Certificate) -> list[str]:
    import base64

    return [
        base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certificates
    ]


def test_a_certificate_for_another_host_is_refused_even_when_skipping_the_chain() -> None:
    ca, leaf, _ = make_development_ca("evil.example")

    with pytest.raises(ChainRefused, match="does not name"):
        request_key(_x5c(leaf), "testserver", [ca])
    with pytest.raises(ChainRefused, match="does not name"):
        request_key(_x5c(leaf), "testserver", [], skip_chain=True)
    assert request_key(_x5c(leaf), "evil.example", [ca]) == leaf.public_key()


def test_a_malformed_x5c_is_refused() -> None:
    for x5c in (None, [], ["not base64!"], "abc"):
        with pytest.raises(ChainRefused):
            request_key(x5c, "testserver", [])
