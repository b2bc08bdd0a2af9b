"""Credential types Kluis issues: their claims, validation and display metadata.

Each type turns operator or registry input into the claims of one SD-JWT VC. Source data that
a claim is derived from (a birth date) is used once and never returned, stored or issued
(privacy invariant 1). Every claim is selectively disclosable, so a wallet can show "18 or
older" without the other age statements.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from attestations.errors import InvalidClaims, UnknownCredentialType
from attestations.sdjwt import IssuerPath, JsonObject

TIMEZONE = ZoneInfo("Europe/Amsterdam")  # a resident's birthday starts at midnight here
POSTCODE = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")
POSTCODE_EXCLUDED_LETTERS = frozenset({"SA", "SD", "SS"})  # never issued by PostNL
MUNICIPALITY_CODE = re.compile(r"^GM[0-9]{4}$")  # CBS gemeentecode, e.g. GM0363 Amsterdam
# CBS wijk- en buurtcodes: WK + gemeentecode + 2 digits, BU + gemeentecode + 4 digits
NEIGHBOURHOOD_CODE = re.compile(r"^(?:BU[0-9]{8}|WK[0-9]{6})$")
MAX_NAME_LENGTH = 100
RESIDENCE_SOURCES = ("registry", "letter", "desk")
AGE_THRESHOLDS = (12, 16, 18, 21, 65)
OLDEST_PLAUSIBLE_AGE = 130
VERIFICATIONS = ("peer", "desk", "registry")

Labels = Mapping[str, str]  # language -> text


@dataclass(frozen=True)
class ClaimSpec:
    path: tuple[str, ...]
    label: Labels
    # whether every credential of the type carries it: an age threshold a partly known birth
    # date leaves open is left out (age_claims_between), so the age claims are not
    mandatory: bool = True


@dataclass(frozen=True)
class InputSpec:
    """One member of the operator's `--claims` object for a type, as `--help` lists it."""

    name: str
    allowed: str  # which values are accepted (operator documentation, English)
    required: bool = True


@dataclass(frozen=True)
class CredentialType:
    id: str
    name: Labels
    description: Labels
    claims: tuple[ClaimSpec, ...]  # what every credential of the type carries
    validity: dt.timedelta
    build: Callable[[Mapping[str, Any], dt.date], JsonObject]
    inputs: tuple[InputSpec, ...] = ()
    example: Mapping[str, Any] | None = None  # a valid `--claims` object
    # claims a credential carries only when its source gave them (a letter's CBS wijk/buurt
    # code); selectively disclosable like the others, and askable by verifiers
    optional_claims: tuple[ClaimSpec, ...] = ()

    @property
    def disclosable(self) -> tuple[IssuerPath, ...]:
        """The paths of the claims every credential of the type carries."""
        return tuple(spec.path for spec in self.claims)

    @property
    def all_claims(self) -> tuple[ClaimSpec, ...]:
        return self.claims + self.optional_claims

    @property
    def all_disclosable(self) -> tuple[IssuerPath, ...]:
        """Every path a credential of the type may carry, each selectively disclosable."""
        return tuple(spec.path for spec in self.all_claims)

    def claims_from(self, raw: Any, today: dt.date) -> JsonObject:
        """Validated claims of this type from operator input (a JSON object)."""
        if not isinstance(raw, Mapping):
            raise InvalidClaims("claims must be a JSON object")
        return self.build(raw, today)


def issuance_date(now: dt.datetime) -> dt.date:
    return now.astimezone(TIMEZONE).date()


def _only(raw: Mapping[str, Any], allowed: set[str], required: set[str]) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InvalidClaims(f"unknown claim(s): {', '.join(unknown)}")
    missing = sorted(required - set(raw))
    if missing:
        raise InvalidClaims(f"missing claim(s): {', '.join(missing)}")


def _choice(raw: Mapping[str, Any], name: str, options: tuple[str, ...]) -> str:
    value = raw.get(name)
    if value not in options:
        raise InvalidClaims(f"{name} must be one of: {', '.join(options)}")
    assert isinstance(value, str)
    return value


# --- postcode ------------------------------------------------------------------------------


def normalize_postcode(value: Any) -> str:
    """`1087 ab` → `1087AB`; refuses anything that cannot be a Dutch postcode."""
    if not isinstance(value, str):
        raise InvalidClaims("postcode must be a string")
    postcode = "".join(value.split()).upper()
    if not POSTCODE.match(postcode) or postcode[4:] in POSTCODE_EXCLUDED_LETTERS:
        raise InvalidClaims(
            "postcode must be four digits (not starting with 0) and two letters other than "
            "SA, SD or SS"
        )
    return postcode


def _municipality(value: Any) -> JsonObject:
    if not isinstance(value, Mapping) or set(value) != {"code", "name"}:
        raise InvalidClaims("municipality must be an object with exactly code and name")
    code, name = value["code"], value["name"]
    if not isinstance(code, str) or not MUNICIPALITY_CODE.match(code):
        raise InvalidClaims("municipality.code must be a CBS code such as GM0363")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise InvalidClaims(f"municipality.name must be 1 to {MAX_NAME_LENGTH} characters")
    return {"code": code, "name": " ".join(name.split())}


def normalize_neighbourhood(value: Any, municipality_code: str) -> str:
    """A CBS buurtcode (`BU03630001`) or wijkcode (`WK036300`), upper case, that lies in the
    municipality `GMnnnn`; the prefix may be left out (8 digits: a buurt, 6: a wijk)."""
    if not isinstance(value, str):
        raise InvalidClaims("buurtcode must be a string")
    code = "".join(value.split()).upper()
    if code.isdigit() and len(code) in (6, 8):
        code = ("WK" if len(code) == 6 else "BU") + code
    if not NEIGHBOURHOOD_CODE.match(code):
        raise InvalidClaims("buurtcode must be a CBS code such as BU03630001 or WK036300")
    if code[2:6] != municipality_code[2:]:
        raise InvalidClaims("buurtcode must lie in the municipality given")
    return code


def neighbourhood_claims(code: str) -> JsonObject:
    """A buurt lies in a wijk: its code gives both, so a wijk poll needs no more than the wijk."""
    claims: JsonObject = {"wijkcode": "WK" + code[2:8]}
    if code.startswith("BU"):
        claims["buurtcode"] = code
    return claims


def _postcode_claims(raw: Mapping[str, Any], today: dt.date) -> JsonObject:
    names = {"postcode", "municipality", "residence_source"}
    _only(raw, {*names, "buurtcode"}, names)
    postcode = normalize_postcode(raw["postcode"])
    municipality = _municipality(raw["municipality"])
    claims: JsonObject = {
        "postcode": postcode,
        "postcode_area": postcode[:4],
        "municipality": municipality,
        "residence_source": _choice(raw, "residence_source", RESIDENCE_SOURCES),
    }
    if raw.get("buurtcode") is not None:
        code = normalize_neighbourhood(raw["buurtcode"], str(municipality["code"]))
        claims.update(neighbourhood_claims(code))
    return claims


# --- age -----------------------------------------------------------------------------------


def anniversary(birth: dt.date, years: int) -> dt.date:
    """The day someone born on `birth` turns `years`; 29 February birthdays fall on 1 March
    in common years (never a day early)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return dt.date(birth.year + years, 3, 1)


def age_claims(birth: dt.date, today: dt.date) -> JsonObject:
    """Every age threshold, for a known birth date."""
    return age_claims_between(birth, birth, today)


def age_claims_between(earliest: dt.date, latest: dt.date, today: dt.date) -> JsonObject:
    """The age thresholds that hold for anyone born between `earliest` and `latest`: a source
    that knows only the year or month of birth (the registry's `JaarDatum`,
    `JaarMaandDatum`) makes some certain and leaves others out. Later births never have
    earlier anniversaries, so the range's two ends decide for all of it."""
    if earliest > latest:
        raise InvalidClaims("born_between must run from the earliest to the latest date")
    if latest > today:
        raise InvalidClaims("birth_date lies in the future")
    if anniversary(earliest, OLDEST_PLAUSIBLE_AGE) <= today:
        raise InvalidClaims("birth_date is implausibly long ago")
    claims: JsonObject = {}
    for n in AGE_THRESHOLDS:
        if anniversary(latest, n) <= today:
            claims[f"age_over_{n}"] = True
        elif anniversary(earliest, n) > today:
            claims[f"age_over_{n}"] = False
    if not claims:
        raise InvalidClaims("no age threshold is certain for anyone born in that range")
    return claims


def _date(value: Any, name: str) -> dt.date:
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidClaims(f"{name} must be a date as YYYY-MM-DD") from None


def _age_claims(raw: Mapping[str, Any], today: dt.date) -> JsonObject:
    _only(raw, {"birth_date", "born_between"}, set())
    if ("birth_date" in raw) == ("born_between" in raw):
        raise InvalidClaims("give either birth_date or born_between")
    if "birth_date" in raw:
        return age_claims(_date(raw["birth_date"], "birth_date"), today)
    span = raw["born_between"]
    if not isinstance(span, list) or len(span) != 2:
        raise InvalidClaims("born_between must be two dates: the earliest and the latest")
    earliest, latest = (_date(v, "born_between") for v in span)
    return age_claims_between(earliest, latest, today)


# --- real person ---------------------------------------------------------------------------


def _real_person_claims(raw: Mapping[str, Any], today: dt.date) -> JsonObject:
    _only(raw, {"verification", "real_person"}, {"verification"})
    if raw.get("real_person", True) is not True:
        raise InvalidClaims("real_person can only be true")
    return {"real_person": True, "verification": _choice(raw, "verification", VERIFICATIONS)}


YEAR = dt.timedelta(days=365)

TYPES: dict[str, CredentialType] = {
    t.id: t
    for t in (
        CredentialType(
            id="postcode",
            name={"nl": "Woonplaatsbewijs", "en": "Proof of residence"},
            description={
                "nl": "Je postcode en gemeente. Zo kun je laten zien waar je woont.",
                "en": "Your postcode and municipality, to prove where you live.",
            },
            claims=(
                ClaimSpec(("postcode",), {"nl": "Postcode", "en": "Postcode"}),
                ClaimSpec(("postcode_area",), {"nl": "Postcodegebied", "en": "Postcode area"}),
                ClaimSpec(("municipality",), {"nl": "Gemeente", "en": "Municipality"}),
                ClaimSpec(
                    ("municipality", "code"),
                    {"nl": "Gemeentecode (CBS)", "en": "Municipality code (CBS)"},
                ),
                ClaimSpec(
                    ("municipality", "name"), {"nl": "Gemeentenaam", "en": "Municipality name"}
                ),
                ClaimSpec(
                    ("residence_source",),
                    {"nl": "Vastgesteld via", "en": "Established through"},
                ),
            ),
            optional_claims=(
                ClaimSpec(
                    ("wijkcode",),
                    {"nl": "Wijk (CBS-code)", "en": "District (CBS code)"},
                    mandatory=False,
                ),
                ClaimSpec(
                    ("buurtcode",),
                    {"nl": "Buurt (CBS-code)", "en": "Neighbourhood (CBS code)"},
                    mandatory=False,
                ),
            ),
            validity=YEAR,
            build=_postcode_claims,
            inputs=(
                InputSpec("postcode", 'a Dutch postcode, "1087 AB" (spaces and case free)'),
                InputSpec("municipality", '{"code": CBS code "GMnnnn", "name": its name}'),
                InputSpec(
                    "residence_source", "how it was established: " + ", ".join(RESIDENCE_SOURCES)
                ),
                InputSpec(
                    "buurtcode",
                    'CBS buurtcode "BUnnnnnnnn" or wijkcode "WKnnnnnn" in that municipality: '
                    "issued as the claims wijkcode (and buurtcode)",
                    required=False,
                ),
            ),
            example={
                "postcode": "1087 AB",
                "municipality": {"code": "GM0363", "name": "Amsterdam"},
                "residence_source": "registry",
            },
        ),
        CredentialType(
            id="age",
            name={"nl": "Leeftijdsbewijs", "en": "Proof of age"},
            description={
                "nl": "Of je 12, 16, 18, 21 of 65 jaar of ouder bent, zonder je geboortedatum.",
                "en": "Whether you are 12, 16, 18, 21 or 65 or older, without your birth date.",
            },
            claims=tuple(
                ClaimSpec(
                    (f"age_over_{n}",),
                    {"nl": f"{n} jaar of ouder", "en": f"{n} or older"},
                    mandatory=False,
                )
                for n in AGE_THRESHOLDS
            ),
            validity=YEAR,
            build=_age_claims,
            inputs=(
                InputSpec(
                    "birth_date",
                    "YYYY-MM-DD, not in the future; only age_over_"
                    + "/".join(str(n) for n in AGE_THRESHOLDS)
                    + " are issued, never the date",
                    required=False,
                ),
                InputSpec(
                    "born_between",
                    '["YYYY-MM-DD", "YYYY-MM-DD"] instead of birth_date, when only the year '
                    "or month of birth is known: only the thresholds certain for the whole "
                    "range are issued",
                    required=False,
                ),
            ),
            example={"birth_date": "1990-05-17"},
        ),
        CredentialType(
            id="real_person",
            name={"nl": "Echt persoon", "en": "Real person"},
            description={
                "nl": "Dat je een echt persoon bent.",
                "en": "That you are a real person.",
            },
            claims=(
                ClaimSpec(("real_person",), {"nl": "Echt persoon", "en": "Real person"}),
                ClaimSpec(("verification",), {"nl": "Vastgesteld door", "en": "Verified by"}),
            ),
            validity=YEAR,
            build=_real_person_claims,
            inputs=(
                InputSpec("verification", "who confirmed it: " + ", ".join(VERIFICATIONS)),
                InputSpec("real_person", "true (the default)", required=False),
            ),
            example={"verification": "desk"},
        ),
    )
}


def credential_type(type_id: str) -> CredentialType:
    found = TYPES.get(type_id)
    if found is None:
        raise UnknownCredentialType(f"credential type must be one of: {', '.join(TYPES)}")
    return found
