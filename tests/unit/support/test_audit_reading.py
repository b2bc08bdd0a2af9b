"""The helper that reads records for personal data finds values and ignores chance digits."""

import json

from tests.support.audit import discloses


def test_a_value_in_a_field_is_found_wherever_it_sits() -> None:
    entry = json.dumps({"event": "x", "data": {"claims": [{"postcode": "1087AB"}]}})

    assert discloses(entry, "1087")
    assert discloses({"note": "woont in 1087"}, "1087")


def test_digests_ids_and_timestamps_that_contain_the_digits_by_chance_are_ignored() -> None:
    entry = json.dumps(
        {
            "hash": "b84895ab4d1087318e40504de22078342983bf2a7fb3509d24a040d0d315ce",
            "ref": "Xy1087_abcdefghijklmnopqrstuvwxyz012",
            "ts": "2026-12-03T14:52:35.108712Z",
        }
    )

    assert not discloses(entry, "1087")


def test_an_actor_is_opaque_after_its_role_but_a_plain_value_after_a_colon_is_not() -> None:
    actor = {"actor": "desk:3f48613a9c0d1e2b4a5f6e7d8c9b0a1f2e3d4c5b6a798081726354453627180a"}

    assert not discloses(actor, "48613")
    assert discloses({"note": "huisnummer:48613"}, "48613")
    assert discloses({"phone": "tel:0031610874861300"}, "48613")


def test_a_birth_date_written_as_a_moment_is_still_found() -> None:
    assert discloses({"birth_date": "1990-05-17T00:00:00Z"}, "1990-05-17")
    assert discloses({"at": "1990-05-17T00:00:00.000000+00:00"}, "1990")
