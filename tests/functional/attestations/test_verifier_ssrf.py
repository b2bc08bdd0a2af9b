"""A trusted issuer's credential names any status list URI it likes: Kluis must not become a
scanner of hosts the wallet cannot reach. Whether the URI is on a refused address, answers 404
or answers something that is no status list, the wallet gets the same answer, without an
HTTP status, and nothing is requested from a non-public address."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attestations.verifier.cli import verifier_cli
from attestations.verifier.trust import STATUS_UNAVAILABLE
from service.runtime import Runtime
from tests.functional.attestations.test_verifier import rejected, start
from tests.functional.attestations.test_verifier_trusted_issuers import membership_query
from tests.support.oidc import RP, make_rp
from tests.support.other_issuer import OtherIssuer, running_issuer
from tests.support.wallet import Wallet


@pytest.fixture
def other() -> Iterator[OtherIssuer]:
    with running_issuer() as issuer:
        yield issuer


def present_with_status_uri(
    client: TestClient, rp: RP, other: OtherIssuer, uri: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setattr(OtherIssuer, "status_uri", property(lambda self: uri))
    stored, _ = other.issue()
    created = start(client, rp, dcql_query=membership_query(other))
    answer = Wallet(client, [stored]).present(created["qr_payload"])
    rejected(answer, "status_unavailable")
    description: str = answer.json()["error_description"]
    return description


def test_status_list_failures_all_look_alike_to_the_wallet(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    other: OtherIssuer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rp = make_rp(session)
    result = CliRunner().invoke(
        verifier_cli, ["issuers", "add", "--iss", other.url, "--vct", other.vct], obj=runtime
    )
    assert result.exit_code == 0, result.output
    answers = {
        present_with_status_uri(client, rp, other, uri, monkeypatch)
        for uri in (
            f"{other.url}/no-such-list",  # 404
            f"{other.url}/jwks",  # 200, but no status list
            "https://10.0.0.1/admin",  # refused before any request (not a loopback test host)
            "https://169.254.169.254/latest/meta-data/",
        )
    }
    assert len(answers) == 1
    (answer,) = answers
    assert STATUS_UNAVAILABLE in answer and "404" not in answer and "HTTP" not in answer
