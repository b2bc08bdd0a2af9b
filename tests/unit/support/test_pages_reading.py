"""The helper that looks for a value on a page finds it and ignores chance digits."""

from tests.support.pages import shows


def test_a_value_in_the_text_is_found() -> None:
    assert shows("<p>Postcodegebied 1087</p>", "1087")
    assert shows('{"postcode": "1087AB"}', "1087")


def test_ids_tokens_and_moments_that_hold_the_digits_by_chance_are_ignored() -> None:
    page = (
        '<input name="csrf_token" value="b84895ab4d1087318e40504de2207834">'
        '{"generated_at": "2026-12-03T14:52:20.108712Z", "at": "2026-12-03 14:52:20.510870+00:00"}'
    )

    assert not shows(page, "1087")


def test_a_birth_date_written_as_a_moment_is_still_found() -> None:
    assert shows("<td>1990-05-17 00:00:00</td>", "1990")
    assert shows('{"birth_date": "1990-05-17T00:00:00Z"}', "1990")
    assert shows("uitgegeven 2026-12-03 1087", "1087")
