"""Credentials of other issuers: the operator trusts an issuer (`kluis verifier issuers add`)
for some `vct` values, by its JWT VC Issuer Metadata or by a JWKS it hands over; presentations
verify with that issuer's keys and status list. Untrusted issuers, types not accepted from an
issuer and revoked credentials are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.verifier.cli import verifier_cli
from audit.models import AuditEntry
from service.runtime import Runtime
from tests.functional.attestations.test_verifier import (
    POSTCODE_VCT,
    area_query,
    read,
    rejected,
    start,
    verified_result,
)
from tests.support.oidc import RP, make_rp
from tests.support.other_issuer import OtherIssuer, running_issuer
from tests.support.wallet import Wallet


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


@pytest.fixture
def other() -> Iterator[OtherIssuer]:
    with running_issuer() as issuer:
        yield issuer


def cli(runtime: Runtime, *args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(verifier_cli, ["issuers", *args], obj=runtime)
    assert (result.exit_code == 0) is ok, result.output
    return result.output


def membership_query(other: OtherIssuer) -> dict[str, Any]:
    return {
        "credentials": [
            {
                "id": "member",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [other.vct]},
                "claims": [{"path": ["member_of"]}],
            }
        ]
    }


def test_a_credential_of_an_issuer_trusted_by_its_metadata_verifies_with_its_keys(
    client: TestClient, rp: RP, runtime: Runtime, other: OtherIssuer, session: Session
) -> None:
    added = json.loads(cli(runtime, "add", "--iss", other.url, "--vct", other.vct, "--json"))
    assert added == {"iss": other.url, "source": "metadata", "vct_values": [other.vct],
                     "keys": ["other-issuer-1"]}  # fmt: skip
    stored, _ = other.issue()
    created = start(client, rp, dcql_query=membership_query(other))

    answer = Wallet(client, [stored]).present(created["qr_payload"])

    assert answer.status_code == 200, answer.text
    result = verified_result(client, rp, read(client, rp, created).json()["result"])
    [entry] = result["credentials"]
    assert entry["iss"] == other.url and entry["vct"] == other.vct
    assert entry["claims"] == {"member_of": "Buurtvereniging Oost"}
    assert entry["verification"]["status"] == "valid"
    assert "/status/1" in other.requests
    trusted = session.scalars(
        select(AuditEntry).where(AuditEntry.event == "verifier.issuer_trusted")
    ).all()
    assert len(trusted) == 1


def test_an_inline_jwks_is_used_without_fetching_metadata(
    client: TestClient, rp: RP, runtime: Runtime, other: OtherIssuer, tmp_path: Path
) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(other.jwks()))
    cli(runtime, "add", "--iss", other.url, "--vct", other.vct, "--jwks-file", str(jwks_file))
    stored, _ = other.issue(status=False)
    created = start(client, rp, dcql_query=membership_query(other))

    answer = Wallet(client, [stored]).present(created["qr_payload"])

    assert answer.status_code == 200, answer.text
    result = verified_result(client, rp, read(client, rp, created).json()["result"])
    assert result["credentials"][0]["verification"]["status"] == "none"
    assert other.requests == []


def test_a_credential_from_an_untrusted_issuer_is_rejected(
    client: TestClient, rp: RP, other: OtherIssuer
) -> None:
    impostor, _ = other.issue({"postcode_area": "1087"})
    impostor_claims = {"postcode_area": "1087"}
    created = start(client, rp)
    unknown = client.post(
        "/verifier/sessions",
        json={"dcql_query": membership_query(other), "purpose": "x"},
        auth=rp.basic(),
    )

    answer = Wallet(client, [impostor]).present(created["qr_payload"], credential=impostor)

    rejected(answer, "untrusted_issuer")
    assert unknown.status_code == 422  # nobody trusts that vct: no query can ask for it
    assert impostor_claims["postcode_area"] not in answer.text


def test_a_type_not_accepted_from_that_issuer_is_rejected(
    client: TestClient, rp: RP, runtime: Runtime, other: OtherIssuer
) -> None:
    cli(runtime, "add", "--iss", other.url, "--vct", other.vct)
    # trusted for memberships, the other issuer also claims to attest Kluis's postcode type
    stored, _ = other.issue({"postcode_area": "1087"}, vct=POSTCODE_VCT)
    created = start(client, rp, dcql_query=area_query())

    answer = Wallet(client, [stored]).present(created["qr_payload"], credential=stored)

    rejected(answer, "vct_not_accepted")


def test_a_rotated_issuer_key_is_fetched_once_when_a_credential_names_it(
    client: TestClient, rp: RP, runtime: Runtime, other: OtherIssuer
) -> None:
    cli(runtime, "add", "--iss", other.url, "--vct", other.vct)
    other.key, other.kid = ec.generate_private_key(ec.SECP256R1()), "other-issuer-2"
    rotated, _ = other.issue()
    created = start(client, rp, dcql_query=membership_query(other))

    answer = Wallet(client, [rotated]).present(created["qr_payload"])

    assert answer.status_code == 200, answer.text
    assert other.requests.count("/jwks") == 2  # at `add`, and once for the new kid
    other.kid = "forged-kid"
    forged, _ = other.issue()
    again = start(client, rp, dcql_query=membership_query(other))
    rejected(Wallet(client, [forged]).present(again["qr_payload"]), "issuer_key_unresolved")
    assert other.requests.count("/jwks") == 2  # no refetch within the refresh interval


def test_a_credential_revoked_by_the_other_issuer_is_rejected(
    client: TestClient, rp: RP, runtime: Runtime, other: OtherIssuer
) -> None:
    cli(runtime, "add", "--iss", other.url, "--vct", other.vct)
    stored, idx = other.issue()
    other.revoked.add(idx)
    created = start(client, rp, dcql_query=membership_query(other))

    rejected(Wallet(client, [stored]).present(created["qr_payload"]), "revoked")


def test_removing_an_issuer_ends_the_trust(
    client: TestClient, rp: RP, runtime: Runtime, other: OtherIssuer
) -> None:
    cli(runtime, "add", "--iss", other.url, "--vct", other.vct)
    created = start(client, rp, dcql_query=membership_query(other))
    assert json.loads(cli(runtime, "list", "--json"))[0]["iss"] == other.url

    cli(runtime, "remove", other.url)
    stored, _ = other.issue()

    rejected(Wallet(client, [stored]).present(created["qr_payload"]), "")
    assert json.loads(cli(runtime, "list", "--json")) == []
    assert "no such trusted issuer" in cli(runtime, "remove", other.url, ok=False)


def test_metadata_naming_another_issuer_is_refused(runtime: Runtime, other: OtherIssuer) -> None:
    other.claimed_issuer = "https://elders.example"

    output = cli(runtime, "add", "--iss", other.url, "--vct", other.vct, ok=False)

    assert "another issuer" in output
    assert json.loads(cli(runtime, "list", "--json")) == []


def test_unreachable_metadata_is_refused(runtime: Runtime, other: OtherIssuer) -> None:
    output = cli(runtime, "add", "--iss", other.url + "/tenant", "--vct", "x", ok=False)

    assert "cannot fetch" in output and "404" in output
