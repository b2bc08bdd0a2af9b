"""Dutch and English texts of the operator console's erasure pages (registered on import);
the statuses and platform states are the steward pages' words (rights.messages_steward)."""

from __future__ import annotations

from core import register

register(
    {
        "console.erasure.title": {"nl": "Verwijderverzoeken", "en": "Erasure requests"},
        "console.erasure.intro": {
            "nl": "Kluis voert een verwijderverzoek zelf uit en meldt het aan de platforms die "
            "gegevens kregen. Platforms zonder adres voor meldingen moet je zelf inlichten; "
            "leg daarna hier vast dat het gebeurd is.",
            "en": "Kluis carries out an erasure request itself and tells the platforms that "
            "received data. Platforms without an events address must be told by you; record "
            "here afterwards that this was done.",
        },
        "console.erasure.by_hand": {"nl": "Zelf inlichten", "en": "Tell by hand"},
        "console.erasure.request": {"nl": "Verwijderverzoek", "en": "Erasure request"},
        "console.erasure.no_platforms": {
            "nl": "Geen platform had gegevens van deze bewoner.",
            "en": "No platform had data of this resident.",
        },
        "console.erasure.note": {
            "nl": "Hoe is het platform ingelicht?",
            "en": "How was the platform told?",
        },
        "console.erasure.note_hint": {
            "nl": "Bijvoorbeeld: per mail aan de beheerder, ticket 123. Geen namen, "
            "e-mailadressen of andere persoonsgegevens: deze tekst komt in het auditlogboek.",
            "en": "For example: by mail to its administrator, ticket 123. No names, e-mail "
            "addresses or other personal data: this text goes into the audit log.",
        },
        "console.erasure.submit": {"nl": "Vastleggen als afgehandeld", "en": "Record as handled"},
        "console.erasure.recorded": {
            "nl": "Vastgelegd: dit platform is op een andere manier ingelicht.",
            "en": "Recorded: this platform was told another way.",
        },
        "console.erasure.back": {
            "nl": "Terug naar de verwijderverzoeken",
            "en": "Back to the erasure requests",
        },
        "console.erasure.error.note": {
            "nl": "Schrijf op hoe het platform is ingelicht.",
            "en": "Write down how the platform was told.",
        },
        "console.erasure.error.personal": {
            "nl": "Dit lijkt persoonsgegevens te bevatten. Beschrijf alleen hoe, niet wie.",
            "en": "This looks like it holds personal data. Describe only how, not who.",
        },
        "console.erasure.error.done": {
            "nl": "Voor dit platform wacht niets meer bij dit verzoek.",
            "en": "Nothing is waiting for this platform in this request any more.",
        },
        "console.erasure.error.long": {
            "nl": "Deze tekst is te lang.",
            "en": "This text is too long.",
        },
    }
)
