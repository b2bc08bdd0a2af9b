"""The operator's address list for letters: rows `postcode,huisnummer[,toevoeging][,buurtcode]`
(a header row naming these columns may come first, in any order; `;` works as the separator
too, as Dutch spreadsheets write it).

Every row is checked before anything is written; bad rows are reported together, each with its
line number and what is wrong, never with its value (an address is personal data, and the
report may end up in a terminal log). The parsed addresses are used to print letters and are
never stored: Kluis keeps only the postcode (and the CBS wijk/buurt code) of each code.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from attestations.errors import InvalidClaims
from attestations.types import normalize_neighbourhood, normalize_postcode

COLUMNS = ("postcode", "huisnummer", "toevoeging", "buurtcode")
REQUIRED = COLUMNS[:2]
MAX_HOUSE_NUMBER = 99_999
ADDITION = re.compile(r"^[A-Z0-9]{0,6}$")  # BAG huisletter + huisnummertoevoeging
MAX_REPORTED = 50


@dataclass(frozen=True)
class Address:
    """One row of the list. Its repr names only the line, so it cannot leak into a log."""

    line: int
    postcode: str = field(repr=False)
    huisnummer: int = field(repr=False)
    toevoeging: str = field(repr=False)
    buurtcode: str | None = field(repr=False)

    @property
    def key(self) -> tuple[str, int, str]:
        return self.postcode, self.huisnummer, self.toevoeging

    @property
    def label(self) -> str:
        """`1087AB 12-A`: how the letter and the mail-merge file name the address."""
        number = f"{self.huisnummer}-{self.toevoeging}" if self.toevoeging else str(self.huisnummer)
        return f"{self.postcode} {number}"


class AddressListError(ValueError):
    """The list has bad rows; `problems` holds (line, what is wrong) for each."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        shown = [f"line {line}: {message}" for line, message in problems[:MAX_REPORTED]]
        if len(problems) > MAX_REPORTED:
            shown.append(f"… and {len(problems) - MAX_REPORTED} more")
        super().__init__("\n".join(shown))


def _delimiter(first_line: str) -> str:
    return ";" if ";" in first_line and "," not in first_line else ","


def _rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    lines = iter(lines)
    first = next(lines, "")
    delimiter = _delimiter(first)

    def all_lines() -> Iterator[str]:
        yield first
        yield from lines

    reader = csv.reader(all_lines(), delimiter=delimiter, strict=True)
    try:
        for row in reader:
            yield reader.line_num, [cell.strip() for cell in row]
    except csv.Error as exc:
        raise AddressListError([(reader.line_num, f"not valid CSV ({exc})")]) from None


def _header(cells: list[str]) -> dict[str, int] | None:
    names = [c.lower().lstrip("\ufeff") for c in cells]
    if names[:1] != ["postcode"] and "huisnummer" not in names:
        return None
    return {name: i for i, name in enumerate(names)}


def _check_header(columns: dict[str, int], line: int) -> None:
    unknown = sorted(set(columns) - set(COLUMNS))
    missing = [c for c in REQUIRED if c not in columns]
    if unknown or missing:
        parts = [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
        parts += [f"missing column(s) {', '.join(missing)}"] if missing else []
        raise AddressListError([(line, "; ".join(parts) + f" (columns: {', '.join(COLUMNS)})")])


def _address(line: int, values: dict[str, str], municipality_code: str) -> Address:
    try:
        postcode = normalize_postcode(values.get("postcode", ""))
    except InvalidClaims as exc:
        raise ValueError(exc.detail) from None
    number = values.get("huisnummer", "")
    if not number.isdigit() or not 1 <= int(number) <= MAX_HOUSE_NUMBER:
        raise ValueError(f"huisnummer must be a whole number from 1 to {MAX_HOUSE_NUMBER}")
    addition = re.sub(r"[\s\-]", "", values.get("toevoeging", "")).upper()
    if not ADDITION.match(addition):
        raise ValueError("toevoeging must be at most 6 letters and digits")
    code = values.get("buurtcode") or None
    if code is not None:
        try:
            code = normalize_neighbourhood(code, municipality_code)
        except InvalidClaims as exc:
            raise ValueError(exc.detail) from None
    return Address(line, postcode, int(number), addition, code)


def read_addresses(lines: Iterable[str], municipality_code: str) -> list[Address]:
    """Every address of the list, or `AddressListError` naming every bad row (and rows that
    repeat an address: one address gets its letters from one row, `--per-address`)."""
    columns: dict[str, int] | None = None
    addresses: list[Address] = []
    problems: list[tuple[int, str]] = []
    seen: dict[tuple[str, int, str], int] = {}
    for line, cells in _rows(lines):
        if not any(cells):
            continue
        if columns is None:  # the first row: a header, or already an address
            header = _header(cells)
            if header is not None:
                _check_header(header, line)
                columns = header
                continue
            columns = {name: i for i, name in enumerate(COLUMNS)}
        if len(cells) > len(columns) or len(cells) < len(REQUIRED):
            problems.append((line, f"expected {len(REQUIRED)} to {len(columns)} columns"))
            continue
        values = {name: cells[i] for name, i in columns.items() if i < len(cells)}
        try:
            address = _address(line, values, municipality_code)
        except ValueError as exc:
            problems.append((line, str(exc)))
            continue
        if address.key in seen:
            problems.append((line, f"the same address as line {seen[address.key]}"))
            continue
        seen[address.key] = line
        addresses.append(address)
    if problems:
        raise AddressListError(problems)
    if not addresses:
        raise AddressListError([(0, "the list holds no addresses")])
    return addresses
