"""Security Event Token payloads (RFC 8417 / RFC 9493 / CAEP / RISC) and erasure reasons."""

from __future__ import annotations

import pytest

from identity.oidc.models import Client
from rights.errors import ErasureError, ReasonLooksPersonal
from rights.lifecycle import check_reason
from rights.signals import ACCOUNT_PURGED, TOKEN_CLAIMS_CHANGE, iss_sub, set_payload


def _client(alg: str = "ES256") -> Client:
    return Client(client_id="kc_test", id_token_alg=alg)


def test_set_payload_has_the_rfc8417_claims_and_an_iss_sub_subject() -> None:
    payload = set_payload("https://kluis.example", _client(), "pairwise-sub", ACCOUNT_PURGED, {})
    assert payload["iss"] == "https://kluis.example" and payload["aud"] == "kc_test"
    assert payload["sub_id"] == iss_sub("https://kluis.example", "pairwise-sub")
    assert payload["sub_id"]["format"] == "iss_sub"
    assert payload["events"] == {ACCOUNT_PURGED: {}}
    assert len(payload["jti"]) == 32 and payload["alg"] == "ES256"
    assert "exp" not in payload and "sub" not in payload
    again = set_payload("https://kluis.example", _client(), "pairwise-sub", ACCOUNT_PURGED, {})
    assert again["jti"] != payload["jti"]  # one jti per SET, kept across retries by the outbox


def test_event_type_uris_are_the_registered_ones() -> None:
    assert TOKEN_CLAIMS_CHANGE == (
        "https://schemas.openid.net/secevent/caep/event-type/token-claims-change"
    )
    assert ACCOUNT_PURGED == "https://schemas.openid.net/secevent/risc/event-type/account-purged"


def test_unknown_client_alg_falls_back_to_rs256() -> None:
    assert set_payload("i", _client("none"), "s", ACCOUNT_PURGED, {})["alg"] == "RS256"


@pytest.mark.parametrize(
    "reason",
    [
        "verzoek van jan@example.org",
        "jan at example dot org jan@example",
        "woont op 1087 AB",
        "woont op 1087ab",
        "geboren 17-05-1990",
        "geboren 1990/05/17",
        "bel +31 6 1234 5678",
    ],
)
def test_reasons_that_look_like_personal_data_are_refused(reason: str) -> None:
    with pytest.raises(ReasonLooksPersonal):
        check_reason(reason)


def test_plain_reasons_are_kept_normalised_and_bounded() -> None:
    assert check_reason(None) == ""
    assert check_reason("  verhuisd\n naar  elders ") == "verhuisd naar elders"
    assert check_reason("ticket 4521 van de balie") == "ticket 4521 van de balie"
    with pytest.raises(ErasureError):
        check_reason("x" * 501)
