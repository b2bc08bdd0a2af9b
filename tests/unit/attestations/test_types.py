from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from attestations.errors import InvalidClaims, UnknownCredentialType
from attestations.types import (
    TYPES,
    age_claims,
    anniversary,
    credential_type,
    issuance_date,
    normalize_postcode,
)
from tests.support.attestations import POSTCODE_INPUT

TODAY = dt.date(2026, 11, 24)


def postcode(**changes: Any) -> dict[str, Any]:
    return TYPES["postcode"].claims_from({**POSTCODE_INPUT, **changes}, TODAY)


def test_postcode_claims_are_normalised_and_the_area_is_the_four_digits() -> None:
    assert postcode() == {
        "postcode": "1087AB",
        "postcode_area": "1087",
        "municipality": {"code": "GM0363", "name": "Amsterdam"},
        "residence_source": "registry",
    }


@pytest.mark.parametrize("value", ["1087SA", "1087SD", "1087SS", "1087 sa", "1087 ss"])
def test_postcode_refuses_the_letter_combinations_postnl_never_issues(value: str) -> None:
    with pytest.raises(InvalidClaims):
        normalize_postcode(value)


@pytest.mark.parametrize(
    "value", ["0123AB", "123AB", "10870AB", "1087A", "1087A1", "ABCDEF", "", 1087, None]
)
def test_postcode_refuses_what_is_not_a_dutch_postcode(value: object) -> None:
    with pytest.raises(InvalidClaims) as caught:
        normalize_postcode(value)
    assert str(value) not in caught.value.detail or value in ("", None)


@pytest.mark.parametrize("value", ["1087SB", "9999ZZ", "1000AA", "1087se"])
def test_postcode_accepts_neighbours_of_the_excluded_combinations(value: str) -> None:
    assert normalize_postcode(value) == value.upper()


@pytest.mark.parametrize(
    "changes",
    [
        {"municipality": {"code": "0363", "name": "Amsterdam"}},
        {"municipality": {"code": "GM363", "name": "Amsterdam"}},
        {"municipality": {"code": "GM0363", "name": " "}},
        {"municipality": {"code": "GM0363"}},
        {"municipality": {"code": "GM0363", "name": "A", "extra": 1}},
        {"municipality": "Amsterdam"},
        {"residence_source": "rumour"},
        {"postcode_area": "1087"},
    ],
)
def test_postcode_claims_refuse_bad_or_unknown_members(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidClaims):
        postcode(**changes)


def test_postcode_claims_need_every_member() -> None:
    with pytest.raises(InvalidClaims, match="missing"):
        TYPES["postcode"].claims_from({"postcode": "1087AB"}, TODAY)


def test_claims_must_be_an_object() -> None:
    with pytest.raises(InvalidClaims):
        TYPES["age"].claims_from(["1990-01-01"], TODAY)


# --- age ---------------------------------------------------------------------------------------


def test_age_claims_turn_true_on_the_birthday_and_not_a_day_before() -> None:
    birth = dt.date(2008, 11, 24)
    assert age_claims(birth, dt.date(2026, 11, 23))["age_over_18"] is False
    assert age_claims(birth, dt.date(2026, 11, 24))["age_over_18"] is True


def test_age_claims_cover_every_threshold_and_never_the_birth_date() -> None:
    claims = TYPES["age"].claims_from({"birth_date": "1961-03-02"}, TODAY)
    assert claims == {
        "age_over_12": True,
        "age_over_16": True,
        "age_over_18": True,
        "age_over_21": True,
        "age_over_65": True,
    }
    assert "1961" not in repr(claims)


def test_a_leap_day_birthday_counts_from_the_first_of_march_in_common_years() -> None:
    birth = dt.date(2008, 2, 29)
    assert anniversary(birth, 18) == dt.date(2026, 3, 1)
    assert age_claims(birth, dt.date(2026, 2, 28))["age_over_18"] is False
    assert age_claims(birth, dt.date(2026, 3, 1))["age_over_18"] is True
    assert anniversary(birth, 16) == dt.date(2024, 2, 29)


@pytest.mark.parametrize("value", ["2026-11-25", "1890-01-01", "17-05-1990", "1990-5-17", 1990])
def test_age_claims_refuse_impossible_or_malformed_birth_dates(value: object) -> None:
    with pytest.raises(InvalidClaims):
        TYPES["age"].claims_from({"birth_date": value}, TODAY)


def test_the_issuance_date_is_the_date_in_amsterdam() -> None:
    late_evening_utc = dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC)
    assert issuance_date(late_evening_utc) == dt.date(2026, 11, 24)


# --- real person and registry ----------------------------------------------------------------


def test_real_person_claims() -> None:
    ctype = TYPES["real_person"]
    assert ctype.claims_from({"verification": "desk"}, TODAY) == {
        "real_person": True,
        "verification": "desk",
    }
    with pytest.raises(InvalidClaims):
        ctype.claims_from({"verification": "desk", "real_person": False}, TODAY)
    with pytest.raises(InvalidClaims):
        ctype.claims_from({"verification": "hearsay"}, TODAY)


def test_every_claim_of_every_type_is_selectively_disclosable() -> None:
    from tests.support.attestations import INPUTS

    for type_id, ctype in TYPES.items():
        claims = ctype.claims_from(INPUTS[type_id], TODAY)
        assert {path[0] for path in ctype.disclosable} == set(claims)
        assert all(spec.label.keys() == {"nl", "en"} for spec in ctype.claims)


def test_unknown_types_are_refused_with_the_list_of_known_ones() -> None:
    with pytest.raises(UnknownCredentialType, match="postcode, age, real_person"):
        credential_type("passport")


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # winter: Amsterdam is UTC+1, the 18th birthday starts at 23:00 UTC the day before
        ("2026-01-14T22:59:59+00:00", False),
        ("2026-01-14T23:00:00+00:00", True),
        # summer: UTC+2, it starts at 22:00 UTC
        ("2026-07-14T21:59:59+00:00", False),
        ("2026-07-14T22:00:00+00:00", True),
    ],
)
def test_age_is_derived_on_the_amsterdam_calendar_at_issuance(instant: str, expected: bool) -> None:
    import time_machine

    from core.db import utcnow

    moment = dt.datetime.fromisoformat(instant)
    birth = f"2008-{moment.month:02d}-15"
    with time_machine.travel(moment, tick=False):
        claims = TYPES["age"].claims_from({"birth_date": birth}, issuance_date(utcnow()))
    assert claims["age_over_18"] is expected
    assert claims["age_over_16"] is True and claims["age_over_21"] is False


@pytest.mark.parametrize("type_id", sorted(TYPES))
def test_the_documented_inputs_are_exactly_what_the_type_accepts(type_id: str) -> None:
    """`kluis attestations offer --help` lists each type's inputs and an example; they must be
    the truth: the example is accepted, each required input is needed, nothing else is."""
    from click.testing import CliRunner

    from attestations.cli import attestations_cli

    spec = TYPES[type_id]
    assert spec.example is not None and spec.inputs
    today = dt.date(2026, 12, 3)
    spec.claims_from(dict(spec.example), today)
    for member in spec.inputs:
        if member.required:
            without = {k: v for k, v in spec.example.items() if k != member.name}
            with pytest.raises(InvalidClaims):
                spec.claims_from(without, today)
    with pytest.raises(InvalidClaims):
        spec.claims_from({**spec.example, "undocumented": "x"}, today)
    shown = CliRunner().invoke(attestations_cli, ["offer", "--help"]).output
    assert all(member.name in shown for member in spec.inputs)
    assert json.dumps(spec.example) in shown
