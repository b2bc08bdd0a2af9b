"""Dutch and English texts of the consent and erasure pages (registered on import)."""

from __future__ import annotations

from core import register

register(
    {
        "consent.page.title": {"nl": "Mijn toestemmingen", "en": "My consents"},
        "consent.privacy": {"nl": "Privacy", "en": "Privacy"},
        "consent.page.intro": {
            "nl": "Hier zie je per platform welke gegevens je hebt gedeeld en waarvoor. Intrekken "
            "is net zo makkelijk als toestemming geven. Het werkt meteen: het platform krijgt het "
            "gegeven daarna niet meer van Kluis. Kan het platform berichten van Kluis ontvangen? "
            "Dan krijgt het ook bericht.",
            "en": "Here you see, per platform, which details you shared and what for. Withdrawing "
            "is as easy as giving consent. It works at once: after that, the platform no longer "
            "gets the detail from Kluis. If the platform can receive messages from Kluis, it is "
            "told as well.",
        },
        "consent.page.none": {
            "nl": "Je hebt nog geen gegevens gedeeld met een platform.",
            "en": "You have not shared any details with a platform yet.",
        },
        "consent.col.field": {"nl": "Gegeven", "en": "Detail"},
        "consent.col.purpose": {"nl": "Doel", "en": "Purpose"},
        "consent.col.state": {"nl": "Status", "en": "State"},
        "consent.col.since": {"nl": "Sinds", "en": "Since"},
        "consent.col.action": {"nl": "Actie", "en": "Action"},
        "consent.state.given": {"nl": "Toegestaan", "en": "Allowed"},
        "consent.state.refused": {"nl": "Geweigerd", "en": "Refused"},
        "consent.state.withdrawn": {"nl": "Ingetrokken", "en": "Withdrawn"},
        "consent.state.expired": {"nl": "Verlopen", "en": "Expired"},
        "consent.withdraw.one": {"nl": "Intrekken", "en": "Withdraw"},
        "consent.withdraw.one_label": {
            "nl": "Toestemming voor {field} intrekken bij {platform}",
            "en": "Withdraw consent for {field} at {platform}",
        },
        "consent.withdraw.all": {
            "nl": "Alles intrekken voor {platform}",
            "en": "Withdraw everything for {platform}",
        },
        "consent.receipt.download": {
            "nl": "Ontvangstbewijs downloaden (digitaal ondertekend)",
            "en": "Download receipt (digitally signed)",
        },
        "consent.status.withdrawn": {
            "nl": "Je toestemming is ingetrokken. Het platform krijgt dit niet meer van Kluis.",
            "en": "Your consent has been withdrawn. The platform no longer gets this from Kluis.",
        },
        "consent.status.nothing": {
            "nl": "Er was niets meer in te trekken.",
            "en": "There was nothing left to withdraw.",
        },
        "consent.purpose.service-provision": {
            "nl": "Om je te laten inloggen en de dienst te leveren",
            "en": "To log you in and provide the service",
        },
        "consent.purpose.poll": {
            "nl": "Een schuilnaam voor de stemming {poll}",
            "en": "A pseudonym for the poll {poll}",
        },
        "consent.purpose.offline-access": {
            "nl": "Toegang terwijl je niet ingelogd bent",
            "en": "Access while you are not logged in",
        },
        "consent.claim.offline_access": {
            "nl": "Toegang als je niet ingelogd bent",
            "en": "Access when you are not logged in",
        },
        "rights.export": {
            "nl": "Alles wat Kluis over je weet downloaden (JSON-bestand)",
            "en": "Download everything Kluis holds about you (JSON file)",
        },
        "consent.back": {"nl": "Terug naar je account", "en": "Back to your account"},
        # erasure
        "erasure.link": {"nl": "Mijn account verwijderen", "en": "Delete my account"},
        "erasure.confirm.title": {"nl": "Account verwijderen", "en": "Delete account"},
        "erasure.confirm.body": {
            "nl": "Als je je account verwijdert, logt Kluis je uit op al je apparaten. We trekken "
            "je bewijzen in. We vernietigen de sleutel waarmee je gegevens zijn versleuteld. "
            "Daarna verwijderen we je account. Elk platform dat gegevens van je kreeg, krijgt "
            "bericht dat het die moet wissen. Je kunt dit niet ongedaan maken.",
            "en": "If you delete your account, Kluis logs you out on all your devices. We revoke "
            "your proofs. We destroy the key your data is encrypted with. Then we delete your "
            "account. Every platform that received data about you is told to erase it. You cannot "
            "undo this.",
        },
        "erasure.confirm.submit": {
            "nl": "Ja, verwijder mijn account",
            "en": "Yes, delete my account",
        },
        "erasure.confirm.cancel": {"nl": "Nee, terug", "en": "No, go back"},
        "erasure.preview.title": {"nl": "Wat er gebeurt", "en": "What will happen"},
        "erasure.preview.platforms": {
            "nl": "Deze platforms kregen gegevens van je en krijgen bericht dat ze die moeten "
            "wissen:",
            "en": "These platforms received data about you and will be told to erase it:",
        },
        "erasure.preview.no_platforms": {
            "nl": "Geen enkel platform kreeg gegevens van je via Kluis.",
            "en": "No platform received data about you through Kluis.",
        },
        "erasure.reconfirm.password": {"nl": "Je wachtwoord", "en": "Your password"},
        "erasure.reconfirm.hint": {
            "nl": "Vul je wachtwoord nog een keer in. Zo weten we dat jij het bent.",
            "en": "Type your password once more. That way we know it is you.",
        },
        "erasure.reconfirm.recent_login": {
            "nl": "Je account heeft geen wachtwoord. Daarom kan dit alleen binnen 10 minuten "
            "nadat je bent ingelogd. Is het langer geleden? Log dan eerst opnieuw in.",
            "en": "Your account has no password. So you can do this only within 10 minutes after "
            "logging in. Longer ago? Then log in again first.",
        },
        "field_erasure.preview.told": {
            "nl": "Deze platforms kregen dit van je en krijgen bericht: {platforms}",
            "en": "These platforms received this and will be told: {platforms}",
        },
        "field_erasure.preview.nobody": {
            "nl": "Geen platform kreeg dit van je.",
            "en": "No platform received this.",
        },
        "field_erasure.nothing": {
            "nl": "Kluis heeft geen gegevens van je die je apart kunt wissen: geen naam en geen "
            "bewijzen.",
            "en": "Kluis has nothing about you that you can erase separately: no name and no "
            "proofs.",
        },
        "erasure.done.title": {
            "nl": "Je account is verwijderd",
            "en": "Your account has been deleted",
        },
        "erasure.done.home": {"nl": "Naar de startpagina", "en": "To the home page"},
        "erasure.manual.intro": {
            "nl": "Deze platforms kan Kluis niet zelf een bericht sturen. De beheerder van Kluis "
            "laat hun weten dat ze je gegevens moeten wissen. Tot dat gebeurd is, blijft je "
            "verzoek open:",
            "en": "Kluis cannot send these platforms a message itself. The people who run Kluis "
            "tell them to erase your data. Your request stays open until that has happened:",
        },
        "erasure.done.body": {
            "nl": "We hebben je gegevens onleesbaar gemaakt en verwijderd. De platforms die "
            "gegevens van je kregen, krijgen bericht. Alles moet uiterlijk op {due} klaar zijn.",
            "en": "We have made your data unreadable and deleted it. The platforms that received "
            "data about you are being told. Everything must be finished by {due} at the latest.",
        },
        "erasure.done.ref": {
            "nl": "Je kenmerk, voor als je een vraag hebt:",
            "en": "Your reference, in case you have a question:",
        },
    }
)
