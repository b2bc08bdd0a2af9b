"""Dutch and English texts of the steward pages and single-field erasure (registered on
import)."""

from __future__ import annotations

from core import register

register(
    {
        "steward.title": {"nl": "Gegevensbeheer", "en": "Data stewardship"},
        "steward.intro": {
            "nl": "Deze overzichten bevatten geen persoonsgegevens. Bewoners staan er alleen in "
            "als referentie: een code die niet laat zien wie het is. Alles wat je hier bekijkt, "
            "komt in het auditlogboek.",
            "en": "These overviews contain no personal data. Residents appear only as a "
            "reference: a code that does not show who it is. Everything you look at here goes "
            "into the audit log.",
        },
        "steward.nav.erasure": {"nl": "Verwijderverzoeken", "en": "Erasure requests"},
        "steward.nav.consents": {"nl": "Toestemmingen", "en": "Consents"},
        "steward.nav.audit": {"nl": "Auditlogboek", "en": "Audit log"},
        "steward.nav.export": {
            "nl": "Auditlogboek downloaden (JSON Lines)",
            "en": "Download the audit log (JSON Lines)",
        },
        "steward.erasure.none": {"nl": "Geen verwijderverzoeken.", "en": "No erasure requests."},
        "steward.col.request": {"nl": "Verzoek", "en": "Request"},
        "steward.col.what": {"nl": "Wat", "en": "What"},
        "steward.col.status": {"nl": "Status", "en": "Status"},
        "steward.col.received": {"nl": "Ontvangen", "en": "Received"},
        "steward.col.due": {"nl": "Uiterlijk", "en": "Due"},
        "steward.col.platforms": {"nl": "Platforms", "en": "Platforms"},
        "steward.col.platform": {"nl": "Platform", "en": "Platform"},
        "steward.col.claim": {"nl": "Gegeven", "en": "Claim"},
        "steward.col.state": {"nl": "Stand", "en": "State"},
        "steward.col.count": {"nl": "Aantal", "en": "Count"},
        "steward.col.index": {"nl": "Nr.", "en": "No."},
        "steward.col.time": {"nl": "Tijd", "en": "Time"},
        "steward.col.event": {"nl": "Gebeurtenis", "en": "Event"},
        "steward.col.actor": {"nl": "Door", "en": "Actor"},
        "steward.col.subject": {"nl": "Referentie", "en": "Reference"},
        "steward.whole_account": {"nl": "hele account", "en": "whole account"},
        "steward.overdue": {"nl": "TE LAAT", "en": "OVERDUE"},
        "steward.acknowledged": {"nl": "bevestigd", "en": "acknowledged"},
        "steward.pending": {"nl": "wacht (pogingen: {n})", "en": "pending (attempts: {n})"},
        "steward.manual": {
            "nl": "kreeg geen automatisch bericht (geen adres voor meldingen): de beheerder moet "
            "dit platform zelf inlichten",
            "en": "was not told automatically (no events address): the operator must tell "
            "this platform",
        },
        "steward.handled": {
            "nl": "afgehandeld door {by}: {note}",
            "en": "handled by {by}: {note}",
        },
        "steward.kind.security_event": {"nl": "melding", "en": "event"},
        "steward.kind.backchannel_logout": {"nl": "uitloggen", "en": "logout"},
        "steward.kind.manual": {"nl": "handmatig", "en": "by hand"},
        "steward.status.received": {"nl": "ontvangen", "en": "received"},
        "steward.status.executing": {"nl": "wordt uitgevoerd", "en": "executing"},
        "steward.status.propagating": {
            "nl": "platforms worden ingelicht",
            "en": "telling the platforms",
        },
        "steward.status.completed": {"nl": "afgerond", "en": "completed"},
        "steward.status.overdue": {"nl": "te laat", "en": "overdue"},
        "steward.field.name": {"nl": "naam", "en": "name"},
        "steward.field.postcode": {"nl": "postcode", "en": "postcode"},
        "steward.field.age": {"nl": "leeftijd", "en": "age"},
        "steward.field.real_person": {"nl": "echt persoon", "en": "real person"},
        "steward.consents.none": {"nl": "Nog geen toestemmingen.", "en": "No consents yet."},
        "steward.filter": {"nl": "Filteren", "en": "Filter"},
        "steward.filter.event": {"nl": "Gebeurtenis", "en": "Event type"},
        "steward.filter.event.hint": {
            "nl": "Kleine letters, cijfers, punten en liggende streepjes (_), beginnend met een "
            "letter. Bijvoorbeeld: consent.given",
            "en": "Lower-case letters, digits, dots and underscores (_), starting with a letter. "
            "For example: consent.given",
        },
        "steward.filter.event.error": {
            "nl": "Een gebeurtenis bestaat uit kleine letters, cijfers, punten en liggende "
            "streepjes (_), hoogstens 64, en begint met een letter. Bijvoorbeeld: consent.given",
            "en": "An event type consists of lower-case letters, digits, dots and underscores "
            "(_), at most 64, and starts with a letter. For example: consent.given",
        },
        "steward.filter.subject": {"nl": "Referentie", "en": "Reference"},
        "steward.filter.subject.hint": {
            "nl": "Precies 64 tekens: cijfers 0-9 en letters a-f, zoals in de kolom Referentie.",
            "en": "Exactly 64 characters: digits 0-9 and letters a-f, as in the Reference column.",
        },
        "steward.filter.subject.error": {
            "nl": "Een referentie is precies 64 tekens: cijfers 0-9 en letters a-f.",
            "en": "A reference is exactly 64 characters: digits 0-9 and letters a-f.",
        },
        "steward.filter.since": {"nl": "Vanaf (UTC)", "en": "From (UTC)"},
        "steward.filter.until": {"nl": "Tot (UTC)", "en": "Until (UTC)"},
        "steward.filter.time.error": {
            "nl": "Vul een datum en tijd in UTC in, bijvoorbeeld 2026-11-30T08:00.",
            "en": "Enter a date and time in UTC, for example 2026-11-30T08:00.",
        },
        "steward.audit.none": {"nl": "Geen regels gevonden.", "en": "No entries found."},
        "steward.audit.next": {"nl": "Volgende", "en": "Next"},
        "field_erasure.link": {"nl": "Eén gegeven wissen", "en": "Erase one detail"},
        "field_erasure.title": {"nl": "Eén gegeven wissen", "en": "Erase one detail"},
        "field_erasure.intro": {
            "nl": "Kies welk gegeven we moeten wissen. We verwijderen het en trekken je "
            "toestemming ervoor in. Elk platform dat het kreeg, krijgt bericht dat het dit moet "
            "wissen. Je account blijft bestaan.",
            "en": "Choose which detail to erase. We delete it and withdraw your consent for it. "
            "Every platform that received it is told to erase it. Your account stays.",
        },
        "field_erasure.field": {"nl": "Gegeven", "en": "Detail"},
        "field_erasure.submit": {"nl": "Wis dit gegeven", "en": "Erase this detail"},
        "field_erasure.field.name": {"nl": "Je naam", "en": "Your name"},
        "field_erasure.field.postcode": {
            "nl": "Je woonplaatsbewijs (postcode, gemeente)",
            "en": "Your proof of residence (postcode, municipality)",
        },
        "field_erasure.field.age": {"nl": "Je leeftijdsbewijs", "en": "Your proof of age"},
        "field_erasure.field.real_person": {
            "nl": "Je bewijs 'echt persoon'",
            "en": "Your 'real person' proof",
        },
        "field_erasure.done": {
            "nl": "We hebben het gegeven gewist. De platforms die het kregen, krijgen bericht. "
            "Alles moet uiterlijk op {due} klaar zijn.",
            "en": "We have erased the detail. The platforms that received it are being told. "
            "Everything must be finished by {due} at the latest.",
        },
    }
)
