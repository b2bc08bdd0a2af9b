"""Dutch and English texts of the built-in wallet (registered on import)."""

from __future__ import annotations

from core.i18n import register

register(
    {
        "wallet.title": {"nl": "Mijn Kluis-wallet", "en": "My Kluis wallet"},
        "wallet.intro": {
            "nl": "Bewijzen die Kluis voor je bewaart, als je geen wallet-app hebt. Je laat ze "
            "zien door met je telefoon de QR-code van een platform te scannen; je kiest elke "
            "keer zelf of je iets deelt.",
            "en": "Attestations Kluis keeps for you if you have no wallet app. You show them by "
            "scanning a platform's QR code with your phone; each time you decide whether to "
            "share anything.",
        },
        "wallet.empty": {
            "nl": "Er staan nog geen bewijzen in je Kluis-wallet.",
            "en": "There are no attestations in your Kluis wallet yet.",
        },
        "wallet.keep.code": {"nl": "Code (6 cijfers)", "en": "Code (6 digits)"},
        "wallet.keep.submit": {
            "nl": "Bewaar in mijn Kluis-wallet",
            "en": "Keep in my Kluis wallet",
        },
        "wallet.status.kept": {
            "nl": "Het bewijs staat nu in je Kluis-wallet.",
            "en": "The attestation is now in your Kluis wallet.",
        },
        "wallet.status.wrong_code": {
            "nl": "De code klopt niet. Na 5 verkeerde codes vervalt het aanbod.",
            "en": "The code is not right. After 5 wrong codes the offer lapses.",
        },
        "wallet.status.gone": {
            "nl": "Dit aanbod bestaat niet meer of is verlopen.",
            "en": "This offer no longer exists or has expired.",
        },
        # the universal link without a Kluis login
        "wallet.open.title": {
            "nl": "Hoe wil je dit laten zien?",
            "en": "How do you want to show this?",
        },
        "wallet.open.intro": {
            "nl": "{platform} vraagt je om een bewijs te laten zien. Kies waar je bewijs staat.",
            "en": "{platform} asks you to show an attestation. Choose where your attestation is.",
        },
        "wallet.open.app": {"nl": "In je wallet-app", "en": "In your wallet app"},
        "wallet.open.app_body": {
            "nl": "Heb je een wallet-app op deze telefoon? Open het verzoek daarin.",
            "en": "Do you have a wallet app on this phone? Open the request in it.",
        },
        "wallet.open.app_link": {
            "nl": "Open in je wallet-app",
            "en": "Open in your wallet app",
        },
        "wallet.open.kluis": {"nl": "In je Kluis-wallet", "en": "In your Kluis wallet"},
        "wallet.open.kluis_body": {
            "nl": "Bewaart Kluis je bewijzen? Log in bij Kluis; daarna kom je hier terug.",
            "en": "Does Kluis keep your attestations? Log in to Kluis; you come back here after.",
        },
        "wallet.open.kluis_link": {
            "nl": "Gebruik je Kluis-wallet",
            "en": "Use your Kluis wallet",
        },
        # the approve page
        "wallet.approve.title": {"nl": "Gegevens delen", "en": "Share information"},
        "wallet.approve.asks": {
            "nl": "{platform} vraagt je om het volgende te laten zien:",
            "en": "{platform} asks you to show the following:",
        },
        "wallet.approve.login": {
            "nl": "Je logt in bij Kluis op het scherm waar je de QR-code hebt gescand, met dit "
            "account. Er worden geen gegevens gedeeld. Heb je dat inloggen niet zelf gestart? "
            "Kies dan Niet delen.",
            "en": "You log in to Kluis with this account on the screen where you scanned the QR "
            "code. No information is shared. Did you not start that login yourself? Then "
            "choose Do not share.",
        },
        "wallet.approve.purpose": {"nl": "Waarvoor", "en": "What for"},
        "wallet.approve.only": {
            "nl": "Alleen dit wordt gedeeld, niet je naam of andere gegevens.",
            "en": "Only this is shared, not your name or anything else.",
        },
        "wallet.approve.allow": {"nl": "Delen", "en": "Share"},
        "wallet.approve.refuse": {"nl": "Niet delen", "en": "Do not share"},
        "wallet.pair.title": {"nl": "Koppelcode", "en": "Pairing code"},
        "wallet.pair.body": {
            "nl": "Typ de code van 4 cijfers die {platform} nu op zijn scherm laat zien. Zie je "
            "geen code, of heb je deze QR-code niet zelf gescand? Stop dan: iemand anders kan "
            "meekijken.",
            "en": "Type the 4-digit code that {platform} is showing on its screen now. No code "
            "visible, or did you not scan this QR code yourself? Then stop: someone else may be "
            "trying to use your data.",
        },
        "wallet.pair.field": {"nl": "Koppelcode", "en": "Pairing code"},
        "wallet.pair.submit": {"nl": "Verder", "en": "Continue"},
        "wallet.pair.wrong": {
            "nl": "Die code klopt niet. Je kunt het nog {left} keer proberen.",
            "en": "That code is not right. You have {left} more tries.",
        },
        "wallet.ended.title": {"nl": "Verzoek beëindigd", "en": "Request ended"},
        "wallet.ended.body": {
            "nl": "Dit verzoek is niet meer open (verlopen, afgebroken of al beantwoord).",
            "en": "This request is no longer open (expired, cancelled or already answered).",
        },
        "wallet.pair_failed.body": {
            "nl": "De koppelcode is te vaak verkeerd ingevuld. Het verzoek is afgebroken en er "
            "is niets gedeeld.",
            "en": "The pairing code was entered wrongly too often. The request was cancelled and "
            "nothing was shared.",
        },
        "wallet.no_credential.title": {
            "nl": "Geen passend bewijs",
            "en": "No matching attestation",
        },
        "wallet.no_credential.body": {
            "nl": "Je Kluis-wallet heeft geen geldig bewijs met wat {platform} vraagt. Er is "
            "niets gedeeld. Vraag de gemeente of de balie om dit bewijs.",
            "en": "Your Kluis wallet holds no valid attestation with what {platform} asks for. "
            "Nothing was shared. Ask the municipality or the desk for this attestation.",
        },
        "wallet.shared.title": {"nl": "Gedeeld", "en": "Shared"},
        "wallet.shared.body": {
            "nl": "Klaar. Ga terug naar het scherm van {platform}.",
            "en": "Done. Go back to the screen of {platform}.",
        },
        "wallet.refused.title": {"nl": "Niet gedeeld", "en": "Not shared"},
        "wallet.refused.body": {
            "nl": "Je hebt niets gedeeld met {platform}.",
            "en": "You shared nothing with {platform}.",
        },
        "wallet.other_account.body": {
            "nl": "Dit verzoek is al op een ander account geopend.",
            "en": "This request was already opened on another account.",
        },
    }
)
