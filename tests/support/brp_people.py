"""People as the registry (Haal Centraal BRP) holds them, far more than Kluis asks for: the
test data of the registry adapter's unit tests and of the municipality flow's tests (the
contract fake in `tests.support.brp_contract` answers only the asked `fields` of them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

BSN = "999993653"  # from the BRP API test set; passes the elfproef
OTHER_BSN = "123456782"
MONTHS = "januari februari maart april mei juni juli augustus september oktober november"
MONTHS_NL = [*MONTHS.split(), "december"]
AMSTERDAM = {"code": "0363", "omschrijving": "Amsterdam"}
ADRES = {
    "type": "Adres",
    "verblijfadres": {
        "officieleStraatnaam": "Spui",
        "korteStraatnaam": "Spui",
        "huisnummer": 70,
        "huisletter": "b",
        "huisnummertoevoeging": "2",
        "postcode": "1087AB",
        "woonplaats": "Amsterdam",
    },
    "adresseerbaarObjectIdentificatie": "0363010000000001",
    "functieAdres": {"code": "W", "omschrijving": "woonadres"},
}
ELSEWHERE = {
    "VerblijfplaatsOnbekend": {"type": "VerblijfplaatsOnbekend"},
    "VerblijfplaatsBuitenland": {
        "type": "VerblijfplaatsBuitenland",
        "verblijfadres": {"regel1": "Rue 1", "land": {"code": "5002", "omschrijving": "Frankrijk"}},
    },
    "Locatie": {"type": "Locatie", "verblijfadres": {"locatiebeschrijving": "Woonboot Sloot"}},
}


def full(day: dt.date) -> dict[str, Any]:
    text = f"{day.day} {MONTHS_NL[day.month - 1]} {day.year}"
    return {"type": "Datum", "datum": day.isoformat(), "langFormaat": text}


def person(bsn: str = BSN, **members: Any) -> dict[str, Any]:
    """A whole `Persoon` as the registry holds it, far more than Kluis asks for."""
    return {
        "naam": {"voornamen": "Klaas", "geslachtsnaam": "Jansen"},
        "geslacht": {"code": "M", "omschrijving": "man"},
        "geboorte": {"datum": full(dt.date(1990, 5, 17))},
        "verblijfplaats": ADRES,
        "gemeenteVanInschrijving": AMSTERDAM,
        "burgerservicenummer": bsn,
        **members,
    }
