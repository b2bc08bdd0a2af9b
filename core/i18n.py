"""Language negotiation and message catalogues. Dutch is the default; English is available via
`?lang=en`, the `kluis_lang` cookie or `Accept-Language`.

Packages register their own messages (`register({"key": {"nl": ..., "en": ...}})`); a key
missing in a language falls back to Dutch, then to the key itself so a gap is visible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

SUPPORTED = ("nl", "en")
DEFAULT = "nl"
LANG_COOKIE = "kluis_lang"

_CATALOGUE: dict[str, dict[str, str]] = {}


def register(messages: Mapping[str, Mapping[str, str]]) -> None:
    for key, by_lang in messages.items():
        _CATALOGUE.setdefault(key, {}).update(by_lang)


def languages_of(key: str) -> frozenset[str]:
    """The languages the catalogue has `key` in (none: the key is unknown)."""
    return frozenset(_CATALOGUE.get(key, {}))


def translate(lang: str, key: str, **params: object) -> str:
    by_lang = _CATALOGUE.get(key)
    if by_lang is None:
        return key
    text = by_lang.get(lang) or by_lang.get(DEFAULT) or key
    return text.format(**params) if params else text


def known(key: str) -> bool:
    """Whether a message is registered under `key` (for optional, more specific messages)."""
    return key in _CATALOGUE


def _parse_accept_language(header: str) -> list[tuple[float, str]]:
    ranked: list[tuple[float, str]] = []
    for part in header.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((quality, tag.strip().lower().split("-")[0]))
    ranked.sort(key=lambda item: -item[0])
    return ranked


def negotiate(
    query: str | None = None, cookie: str | None = None, accept_language: str | None = None
) -> str:
    """Pick the page language: explicit choice, then remembered choice, then the browser's."""
    for explicit in (query, cookie):
        if explicit and explicit.lower() in SUPPORTED:
            return explicit.lower()
    if accept_language:
        for quality, tag in _parse_accept_language(accept_language):
            if quality > 0 and tag in SUPPORTED:
                return tag
    return DEFAULT


_MONTHS = {
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def format_date(day: dt.date, lang: str) -> str:
    """A date as people write it: "3 december 2026" / "3 December 2026"."""
    months = _MONTHS.get(lang, _MONTHS[DEFAULT])
    return f"{day.day} {months[day.month - 1]} {day.year}"


def format_datetime(moment: dt.datetime, lang: str) -> str:
    """A local date and time: "3 december 2026, 14:27" (24-hour clock in both languages)."""
    return f"{format_date(moment.date(), lang)}, {moment:%H:%M}"


register(
    {
        "site.name": {"nl": "Kluis", "en": "Kluis"},
        "site.tagline": {
            "nl": "Inloggen en bewijzen zonder meer te delen dan nodig.",
            "en": "Log in and prove things without sharing more than needed.",
        },
        "nav.skip": {"nl": "Naar de inhoud", "en": "Skip to content"},
        "nav.language": {"nl": "Taal", "en": "Language"},
        "home.title": {"nl": "Welkom bij Kluis", "en": "Welcome to Kluis"},
        "home.body": {
            "nl": "Met Kluis log je in bij de platforms in je buurt. Kluis geeft je bewijzen en "
            "houdt bij waarvoor je toestemming gaf. Je deelt alleen wat je zelf kiest.",
            "en": "With Kluis you log in to the platforms in your neighbourhood. Kluis gives you "
            "proofs and keeps track of what you gave consent for. You share only what you choose.",
        },
        "nav.main": {"nl": "Menu", "en": "Menu"},
        "nav.account": {"nl": "Mijn account", "en": "My account"},
        "nav.logout": {"nl": "Uitloggen", "en": "Log out"},
        "nav.login": {"nl": "Inloggen", "en": "Log in"},
        "home.login": {"nl": "Inloggen", "en": "Log in"},
        "home.register": {"nl": "Account maken", "en": "Create an account"},
        "home.account": {"nl": "Naar mijn account", "en": "Go to my account"},
        "home.platforms": {
            "nl": "Log je in bij een buurtplatform? Dan stuurt dat platform je vanzelf hierheen.",
            "en": "Logging in to a neighbourhood platform? Then that platform sends you here by "
            "itself.",
        },
        "error.title": {"nl": "Er ging iets mis", "en": "Something went wrong"},
        "error.request_id": {"nl": "Kenmerk", "en": "Reference"},
        "error.back": {"nl": "Terug naar het begin", "en": "Back to the start"},
        # What a browser shows for a problem, in the page's language; the API's problem+json
        # keeps its English `detail`. A problem without an entry here shows its own detail.
        "error.problem.not-found": {
            "nl": "Deze pagina bestaat niet (meer). Misschien is de link oud of niet compleet. "
            "Kijk of je de hele link hebt overgenomen.",
            "en": "This page does not exist (any more). The link may be old or incomplete. Check "
            "that you copied the whole link.",
        },
        "error.problem.rate-limited": {
            "nl": "Dit is te vaak kort na elkaar geprobeerd. Wacht even en probeer het dan "
            "opnieuw.",
            "en": "This was tried too often in a short time. Wait a moment, then try again.",
        },
        "error.problem.unsafe-input": {
            "nl": "Kluis kan niet lezen wat er is verstuurd. Ga terug en probeer het opnieuw.",
            "en": "Kluis cannot read what was sent. Go back and try again.",
        },
        "error.problem.invalid-input": {
            "nl": "Er ontbreekt iets of er klopt iets niet. Ga terug en probeer het opnieuw.",
            "en": "Something is missing or not right. Go back and try again.",
        },
        "error.problem.unavailable": {
            "nl": "Kluis is heel even niet bereikbaar. Probeer het over een paar seconden opnieuw.",
            "en": "Kluis is unavailable for a moment. Try again in a few seconds.",
        },
        "error.problem.forbidden": {
            "nl": "Je hebt geen toegang tot deze pagina. Ben je ingelogd met het goede account?",
            "en": "You do not have access to this page. Are you logged in with the right account?",
        },
        "error.problem.unauthorized": {
            "nl": "Log eerst in om deze pagina te zien.",
            "en": "Log in first to see this page.",
        },
    }
)


LOCAL_TIME = ZoneInfo("Europe/Amsterdam")  # residents read times in their own time zone


@dataclass(frozen=True)
class When:
    iso: str  # for <time datetime>
    text: str


def when(moment: dt.datetime, *, day_only: bool = False, lang: str = DEFAULT) -> When:
    """A moment in the residents' time zone, written out in their language."""
    local = moment.astimezone(LOCAL_TIME)
    if day_only:
        return When(local.date().isoformat(), format_date(local.date(), lang))
    return When(local.isoformat(timespec="minutes"), format_datetime(local, lang))
