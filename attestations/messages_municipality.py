"""Dutch and English texts of "Haal mijn gegevens op bij de gemeente" (registered on import)."""

from __future__ import annotations

from core import register

register(
    {
        "municipality.section": {
            "nl": "Bewijzen van de gemeente",
            "en": "Proofs from the municipality",
        },
        "municipality.intro": {
            "nl": "Log in met DigiD. Dan vraagt Kluis bij de gemeente je postcode en je leeftijd "
            "op. Je krijgt er bewijzen van. Kluis bewaart je adres, geboortedatum en BSN niet.",
            "en": "Log in with DigiD. Kluis then asks the municipality for your postcode and your "
            "age. You get proofs of them. Kluis does not keep your address, birth date or BSN.",
        },
        "municipality.start": {
            "nl": "Haal mijn gegevens op bij de gemeente",
            "en": "Get my proofs from the municipality",
        },
        "municipality.back": {"nl": "Terug naar je account", "en": "Back to your account"},
        "municipality.offers.title": {
            "nl": "Je bewijzen van de gemeente",
            "en": "Your proofs from the municipality",
        },
        "municipality.offers.intro": {
            "nl": "De gemeente heeft je gegevens gegeven. Bewaar elk bewijs in je Kluis-wallet. "
            "Of zet het in een wallet-app op je telefoon.",
            "en": "The municipality has given your details. Keep each proof in your Kluis "
            "wallet. Or put it in a wallet app on your phone.",
        },
        "municipality.offers.app": {
            "nl": "Liever in een wallet-app?",
            "en": "Rather in a wallet app?",
        },
        "municipality.offers.scan": {
            "nl": "Scan deze QR-code met je wallet-app. Typ daarna de code hieronder.",
            "en": "Scan this QR code with your wallet app. Then type the code below.",
        },
        "municipality.offers.qr_alt": {
            "nl": "QR-code voor je wallet-app: {type}",
            "en": "QR code for your wallet app: {type}",
        },
        "municipality.offers.open_app": {
            "nl": "Open in de wallet-app op dit apparaat",
            "en": "Open in the wallet app on this device",
        },
        "municipality.offers.code": {"nl": "Code:", "en": "Code:"},
        "municipality.offers.none": {
            "nl": "De gemeente kon geen bewijs voor je maken. Vraag een code per brief aan, of "
            "kom langs bij de balie.",
            "en": "The municipality could not make a proof for you. Ask for a code by letter, "
            "or visit the desk.",
        },
        "municipality.offers.not_offered": {
            "nl": "Niet gelukt: {types}. De gemeente weet daar niet genoeg over. Vraag het na "
            "bij de balie.",
            "en": "Not possible: {types}. The municipality does not know enough about it. Ask "
            "at the desk.",
        },
        "municipality.failed.title": {
            "nl": "Dat lukte niet",
            "en": "That did not work",
        },
        "municipality.failed.gone": {
            "nl": "Deze inlog is verlopen of al gebruikt. Begin opnieuw op je accountpagina.",
            "en": "This login has expired or was used already. Start again on your account page.",
        },
        "municipality.failed.message": {"nl": "{text}", "en": "{text}"},
    }
)
