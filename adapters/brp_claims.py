"""What Kluis keeps of a Haal Centraal BRP Personen Bevragen 2.x answer, and what it derives
from it: the claims of a `postcode` attestation and whether "18 or older" is certain.

`parse_person` reads one `Persoon` of a `RaadpleegMetBurgerservicenummerResponse` strictly:
only the members Kluis asked for (`verblijfplaats`, `gemeenteVanInschrijving`,
`geboorte.datum`, `leeftijd`) and the ones the registry always adds (`inOnderzoek`,
`opschortingBijhouding`, …), each in the shape the contract gives it. The derivations are pure
functions of a `RegistryRecord` and an injected `today`.

The birth date is used to answer "at least N years old?" and is never returned; the house
number (`huisnummer`, `huisletter`, `huisnummertoevoeging`) only by `home_address`, for the
keyed hash of the address, never for a claim. The record is meant to be dropped once the
claims are derived (privacy invariant 1), and its `repr` shows no personal data, so a stray
log line cannot leak it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

QUERY_TYPE = "RaadpleegMetBurgerservicenummer"
# mirrors attestations.types (adapters may not import attestations; a test keeps them equal)
POSTCODE = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")
POSTCODE_EXCLUDED_LETTERS = frozenset({"SA", "SD", "SS"})
MAX_NAME_LENGTH = 100
# `Postcode` in the contract: a space between digits and letters is allowed, lower case too
CONTRACT_POSTCODE = re.compile(r"^[1-9][0-9]{3} ?[A-Za-z]{2}$")
# `Huisletter` and `Huisnummertoevoeging` of the contract (`Huisnummer` is 1 to 99999)
CONTRACT_HOUSE_LETTER = re.compile(r"^[a-zA-Z]$")
CONTRACT_HOUSE_ADDITION = re.compile(r"^[a-zA-Z0-9 \-]{1,4}$")
GEMEENTECODE = re.compile(r"^[0-9]{4}$")  # `GemeenteVanInschrijving`
# gemeentecode 1999 is the RNI (registratie niet-ingezetenen), not a municipality one lives in
RNI_GEMEENTECODE = "1999"
RESIDENCE_TYPES = frozenset(
    {"Adres", "VerblijfplaatsBuitenland", "VerblijfplaatsOnbekend", "Locatie"}
)
# members the registry delivers without being asked (`PersonenQuery.fields` description)
ALWAYS_DELIVERED = frozenset(
    {"inOnderzoek", "geheimhoudingPersoonsgegevens", "opschortingBijhouding", "rni", "verificatie"}
)
ASKED = frozenset({"verblijfplaats", "gemeenteVanInschrijving", "geboorte", "leeftijd"})


class MalformedRecord(ValueError):
    """The registry's answer does not have the contract's shape; the message names the
    member, never its value."""


# --- `AbstractDatum` and its subtypes, as far as a birth date needs them --------------------


@dataclass(frozen=True)
class FullDate:
    """`VolledigeDatum` (discriminator value `Datum`)."""

    date: dt.date

    def bounds(self) -> tuple[dt.date, dt.date]:
        return self.date, self.date


@dataclass(frozen=True)
class YearMonthDate:
    """`JaarMaandDatum`: the day is unknown."""

    year: int
    month: int

    def bounds(self) -> tuple[dt.date, dt.date]:
        last_day = calendar.monthrange(self.year, self.month)[1]
        return dt.date(self.year, self.month, 1), dt.date(self.year, self.month, last_day)


@dataclass(frozen=True)
class YearDate:
    """`JaarDatum`: month and day are unknown."""

    year: int

    def bounds(self) -> tuple[dt.date, dt.date]:
        return dt.date(self.year, 1, 1), dt.date(self.year, 12, 31)


@dataclass(frozen=True)
class UnknownDate:
    """`DatumOnbekend`."""

    def bounds(self) -> None:
        return None


BirthDate = FullDate | YearMonthDate | YearDate | UnknownDate


@dataclass(frozen=True)
class Municipality:
    code: str  # the registry's four digits, e.g. "0363"
    name: str


@dataclass(frozen=True, repr=False)
class HouseNumber:
    """`huisnummer` with its `huisletter` and `huisnummertoevoeging` as the registry gives them."""

    number: int
    letter: str = ""
    addition: str = ""

    def __repr__(self) -> str:
        return "HouseNumber(<personal data not shown>)"


@dataclass(frozen=True, repr=False)
class RegistryRecord:
    """What Kluis needs of one resident's registry entry, read at one lookup.

    `age` is `leeftijd`, which the registry computes on the day of the lookup: use the record
    that day. `residence_in_doubt` is set when the address or the municipality is under
    investigation (`inOnderzoek`) or the registry established that the resident no longer
    lives there (`indicatieVastgesteldVerblijftNietOpAdres`); `suspended` holds the reason
    code of `opschortingBijhouding` (O: deceased, E: emigrated, …)."""

    residence: str | None = None  # the `AbstractVerblijfplaats` type, None: no residence
    postcode: str | None = None
    house: HouseNumber | None = None  # of the `Adres`: for `home_address` only
    municipality: Municipality | None = None
    age: int | None = None
    birth: BirthDate | None = None
    residence_in_doubt: bool = False
    birth_in_doubt: bool = False
    suspended: str | None = None

    def __repr__(self) -> str:
        return "RegistryRecord(<personal data not shown>)"


# --- parsing --------------------------------------------------------------------------------


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedRecord(f"{where} is not an object")
    return value


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MalformedRecord(f"{where} is not an integer from {low} to {high}")
    return int(value)


def _flagged(in_onderzoek: Any, *members: str) -> bool:
    """Whether an `inOnderzoek` object marks any of `members` (or, with none named, anything)."""
    if in_onderzoek is None:
        return False
    marks = _object(in_onderzoek, "inOnderzoek")
    return any(marks.get(m) is True for m in members) if members else True


def parse_birth_date(value: Any) -> BirthDate:
    """One `AbstractDatum`, dispatched on its `type` as the contract's discriminator maps it."""
    datum = _object(value, "geboorte.datum")
    kind = datum.get("type")
    if not isinstance(datum.get("langFormaat"), str):
        raise MalformedRecord("geboorte.datum.langFormaat is missing")
    if kind == "Datum":
        text = datum.get("datum")
        if not isinstance(text, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise MalformedRecord("geboorte.datum.datum is not a date")
        try:
            return FullDate(dt.date.fromisoformat(text))
        except ValueError:
            raise MalformedRecord("geboorte.datum.datum is not a date") from None
    if kind == "JaarMaandDatum":
        year = _int(datum.get("jaar"), "geboorte.datum.jaar", 1, 9999)
        return YearMonthDate(year, _int(datum.get("maand"), "geboorte.datum.maand", 1, 12))
    if kind == "JaarDatum":
        return YearDate(_int(datum.get("jaar"), "geboorte.datum.jaar", 1, 9999))
    if kind == "DatumOnbekend":
        if datum.get("onbekend") is not True:
            raise MalformedRecord("geboorte.datum.onbekend is not true")
        return UnknownDate()
    raise MalformedRecord("geboorte.datum.type is not a date type of the contract")


def _house(address: Mapping[str, Any]) -> HouseNumber | None:
    """The house number of a `VerblijfadresBinnenland`, when the registry gave one."""
    number = address.get("huisnummer")
    if number is None:
        return None
    where = "verblijfplaats.verblijfadres."
    number = _int(number, where + "huisnummer", 1, 99999)
    letter, addition = address.get("huisletter", ""), address.get("huisnummertoevoeging", "")
    if not isinstance(letter, str) or not (letter == "" or CONTRACT_HOUSE_LETTER.match(letter)):
        raise MalformedRecord(f"{where}huisletter is not a letter")
    if not isinstance(addition, str) or not (
        addition == "" or CONTRACT_HOUSE_ADDITION.match(addition)
    ):
        raise MalformedRecord(f"{where}huisnummertoevoeging is not an addition")
    return HouseNumber(number, letter, addition)


def _residence(value: Any) -> tuple[str, str | None, HouseNumber | None, bool]:
    """An `AbstractVerblijfplaats`: its type, the `Adres` postcode and house number, and
    whether it is in doubt."""
    place = _object(value, "verblijfplaats")
    kind = place.get("type")
    if kind not in RESIDENCE_TYPES:
        raise MalformedRecord("verblijfplaats.type is not a residence type of the contract")
    doubt = _flagged(place.get("inOnderzoek")) or (
        place.get("indicatieVastgesteldVerblijftNietOpAdres") is True
    )
    address = place.get("verblijfadres")
    if kind != "Adres" or address is None:
        return kind, None, None, doubt
    address = _object(address, "verblijfplaats.verblijfadres")
    doubt = doubt or _flagged(address.get("inOnderzoek"))
    postcode = address.get("postcode")
    if postcode is not None and (
        not isinstance(postcode, str) or not CONTRACT_POSTCODE.match(postcode)
    ):
        raise MalformedRecord("verblijfplaats.verblijfadres.postcode is not a postcode")
    return kind, postcode, _house(address), doubt


def _municipality(value: Any) -> Municipality | None:
    """`gemeenteVanInschrijving`, a `Waardetabel`; without a name there is nothing to show."""
    table = _object(value, "gemeenteVanInschrijving")
    code, name = table.get("code"), table.get("omschrijving")
    if not isinstance(code, str) or not GEMEENTECODE.match(code):
        raise MalformedRecord("gemeenteVanInschrijving.code is not a gemeentecode")
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        raise MalformedRecord("gemeenteVanInschrijving.omschrijving is not a name")
    return Municipality(code, " ".join(name.split()))


def parse_person(value: Any) -> tuple[RegistryRecord, list[str]]:
    """The record of one `Persoon`, and the names of members Kluis did not ask for (dropped
    unread; the caller reports the names)."""
    person = _object(value, "persoon")
    unexpected = sorted(set(person) - ASKED - ALWAYS_DELIVERED)
    residence, postcode, house, residence_doubt = None, None, None, False
    if "verblijfplaats" in person:
        residence, postcode, house, residence_doubt = _residence(person["verblijfplaats"])
    municipality = None
    if "gemeenteVanInschrijving" in person:
        municipality = _municipality(person["gemeenteVanInschrijving"])
    birth, birth_doubt = None, False
    if "geboorte" in person:
        geboorte = _object(person["geboorte"], "geboorte")
        if "datum" in geboorte:
            birth = parse_birth_date(geboorte["datum"])
        birth_doubt = _flagged(geboorte.get("inOnderzoek"), "datum")
    age = _int(person["leeftijd"], "leeftijd", 0, 150) if "leeftijd" in person else None
    marks = person.get("inOnderzoek")
    suspended = None
    if "opschortingBijhouding" in person:
        reason = _object(person["opschortingBijhouding"], "opschortingBijhouding").get("reden")
        code = _object(reason, "opschortingBijhouding.reden").get("code") if reason else None
        suspended = code if isinstance(code, str) and code else "?"
    record = RegistryRecord(
        residence=residence,
        postcode=postcode,
        house=house,
        municipality=municipality,
        age=age,
        birth=birth,
        residence_in_doubt=residence_doubt or _flagged(marks, "gemeenteVanInschrijving"),
        birth_in_doubt=birth_doubt or _flagged(marks, "leeftijd"),
        suspended=suspended,
    )
    return record, unexpected


def parse_answer(body: Any) -> tuple[RegistryRecord | None, list[str]]:
    """A `RaadpleegMetBurgerservicenummerResponse`: the record of its one `Persoon` (None when
    the registry knows no one by that BSN) and the names of members Kluis did not ask for."""
    answer = _object(body, "answer")
    if answer.get("type") != QUERY_TYPE:
        raise MalformedRecord(f"answer is not a {QUERY_TYPE}Response")
    people = answer.get("personen", [])
    if not isinstance(people, list) or len(people) > 1:
        raise MalformedRecord("answer holds more than one person for one BSN")
    return parse_person(people[0]) if people else (None, [])


# --- derivations ----------------------------------------------------------------------------


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return dt.date(day.year - years, 2, 28)


def birth_bounds(record: RegistryRecord, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The earliest and the latest day the resident can have been born on, as far as the
    registry is certain (`attestations.types.age_claims_between` turns them into the age
    thresholds that are certain): from `leeftijd` when given, else from the birth date, whose
    `JaarDatum` spans its year and `JaarMaandDatum` its month. None when nothing is certain:
    an unknown or doubtful date, a suspended record, or a birth after today (a registry error,
    not an age). The date itself goes no further than the caller's derivation."""
    if record.suspended is not None or record.birth_in_doubt:
        return None
    if record.age is not None:  # turned `age` today at the latest, not yet `age + 1`
        earliest = _years_before(today, record.age + 1) + dt.timedelta(days=1)
        return earliest, _years_before(today, record.age)
    bounds = record.birth.bounds() if record.birth is not None else None
    if bounds is None or bounds[0] > today:
        return None
    earliest, latest = bounds
    return earliest, min(latest, today)  # born this year or month: not after today, at least


def postcode_claims(record: RegistryRecord) -> dict[str, Any] | None:
    """The input of a `postcode` attestation (`residence_source: "registry"`; the type derives
    `postcode_area` itself), only for a
    Dutch `Adres` with a postcode in a municipality, none of it in doubt; None otherwise
    (`VerblijfplaatsBuitenland`, `VerblijfplaatsOnbekend`, a `Locatie`, the RNI)."""
    if record.suspended is not None or record.residence_in_doubt or record.residence != "Adres":
        return None
    municipality = record.municipality
    if record.postcode is None or municipality is None:
        return None
    if municipality.code == RNI_GEMEENTECODE or len(municipality.name) > MAX_NAME_LENGTH:
        return None
    postcode = "".join(record.postcode.split()).upper()
    if not POSTCODE.match(postcode) or postcode[4:] in POSTCODE_EXCLUDED_LETTERS:
        return None
    return {
        "postcode": postcode,
        # the CBS code attestations use is the registry's gemeentecode with "GM" before it
        "municipality": {"code": "GM" + municipality.code, "name": municipality.name},
        "residence_source": "registry",
    }


def home_address(record: RegistryRecord) -> tuple[str, int, str] | None:
    """Postcode, house number and addition (`huisletter` then `huisnummertoevoeging`, as
    printed) of the address a `postcode` attestation from this record is about; None when
    there is no such attestation or the registry gave no house number. For a keyed hash of
    the whole address only: never a claim, a log line or a stored value."""
    claims = postcode_claims(record)
    if claims is None or record.house is None:
        return None
    house = record.house
    return claims["postcode"], house.number, house.letter + house.addition
