"""The operator's address list: rows checked before anything is written, bad ones reported
together with their line numbers and without their values."""

from __future__ import annotations

import pytest

from attestations.letters.addresses import AddressListError, read_addresses


def test_rows_with_a_header_are_read_and_normalised() -> None:
    rows = [
        "postcode,huisnummer,toevoeging,buurtcode",
        "1087 ab,12,,03630001",
        "1087AB,14,a 1,",
        "1011xz,3,,wk036300",
    ]
    first, second, third = read_addresses(rows, "GM0363")
    assert (first.line, first.postcode, first.huisnummer, first.buurtcode) == (
        2,
        "1087AB",
        12,
        "BU03630001",
    )
    assert (second.toevoeging, second.buurtcode, second.label) == ("A1", None, "1087AB 14-A1")
    assert third.buurtcode == "WK036300"


def test_rows_without_a_header_and_with_semicolons_are_read() -> None:
    assert [a.label for a in read_addresses(["1087AB;12", "1087AB;12;B"], "GM0363")] == [
        "1087AB 12",
        "1087AB 12-B",
    ]


def test_a_header_may_name_the_columns_in_another_order() -> None:
    [address] = read_addresses(["huisnummer,postcode", "7,9999ZZ"], "GM0363")
    assert (address.postcode, address.huisnummer) == ("9999ZZ", 7)


def test_every_bad_row_is_reported_with_its_line_and_without_its_value() -> None:
    rows = [
        "postcode,huisnummer,toevoeging,buurtcode",
        "1087AB,12",
        "0123AB,5",  # line 3: not a postcode
        "1087AB,0",  # line 4: no such house number
        "",
        "1087AB,12",  # line 6: the same address as line 2
        "1087AB,8,,BU05990001",  # line 7: a buurt of another municipality
        "1087AB,9,toolongaddition",  # line 8
        "1087AB,10,,,extra",  # line 9: too many columns
    ]
    with pytest.raises(AddressListError) as caught:
        read_addresses(rows, "GM0363")
    assert [line for line, _ in caught.value.problems] == [3, 4, 6, 7, 8, 9]
    report = str(caught.value)
    assert "line 6: the same address as line 2" in report
    for value in ("0123AB", "BU05990001", "toolongaddition", "extra"):
        assert value not in report


def test_an_unknown_column_or_an_empty_list_is_refused() -> None:
    with pytest.raises(AddressListError, match="unknown column"):
        read_addresses(["postcode,huisnummer,straat", "1087AB,1,Dam"], "GM0363")
    with pytest.raises(AddressListError, match="no addresses"):
        read_addresses(["postcode,huisnummer"], "GM0363")


def test_an_address_does_not_show_itself_in_a_repr() -> None:
    [address] = read_addresses(["1087AB,12"], "GM0363")
    assert repr(address) == "Address(line=1)"
