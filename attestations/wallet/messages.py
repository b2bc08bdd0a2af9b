"""Dutch and English texts of the built-in wallet (registered on import)."""

from __future__ import annotations

from core import register

register(
    {
        "wallet.title": {"nl": "Mijn Kluis-wallet", "en": "My Kluis wallet"},
        "wallet.intro": {
            "nl": "Heb je geen wallet-app? Dan kan Kluis je bewijzen voor je bewaren. Wil je een "
            "bewijs laten zien? Scan dan met je telefoon de QR-code van het platform. Je kiest "
            "elke keer zelf of je iets deelt.",
            "en": "No wallet app? Then Kluis can keep your proofs for you. Want to show a proof? "
            "Then scan the platform's QR code with your phone. Each time, you decide yourself "
            "whether to share anything.",
        },
        "wallet.empty": {
            "nl": "Er staan nog geen bewijzen in je Kluis-wallet.",
            "en": "There are no proofs in your Kluis wallet yet.",
        },
        "wallet.keep.code": {"nl": "Code (6 cijfers)", "en": "Code (6 digits)"},
        "wallet.keep.submit": {
            "nl": "Bewaar in mijn Kluis-wallet",
            "en": "Keep in my Kluis wallet",
        },
        "wallet.status.kept": {
            "nl": "Het bewijs staat nu in je Kluis-wallet.",
            "en": "The proof is now in your Kluis wallet.",
        },
        "wallet.status.wrong_code": {
            "nl": "De code klopt niet. Probeer het opnieuw. Na 5 verkeerde codes kun je dit "
            "bewijs niet meer ophalen.",
            "en": "The code is not right. Try again. After 5 wrong codes you can no longer "
            "collect this proof.",
        },
        "wallet.status.gone": {
            "nl": "Dit bewijs kun je niet meer ophalen. Het is verlopen of bestaat niet meer.",
            "en": "This proof can no longer be collected. It has expired or no longer exists.",
        },
        # the universal link without a Kluis login
        "wallet.open.title": {
            "nl": "Hoe wil je dit laten zien?",
            "en": "How do you want to show this?",
        },
        "wallet.open.intro": {
            "nl": "{platform} vraagt je om een bewijs te laten zien. Kies waar je bewijs staat.",
            "en": "{platform} asks you to show a proof. Choose where your proof is.",
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
            "nl": "Bewaart Kluis je bewijzen? Log dan in bij Kluis. Daarna kom je hier terug.",
            "en": "Does Kluis keep your proofs? Then log in to Kluis. After that you come back "
            "here.",
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
        "wallet.approve.login_title": {
            "nl": "Inloggen op een ander scherm",
            "en": "Log in on another screen",
        },
        "wallet.approve.login": {
            "nl": "Je logt in bij Kluis als {handle}, op het scherm waar je de QR-code hebt "
            "gescand. Je deelt hiermee geen gegevens. Heb je dat inloggen niet zelf gestart? Kies "
            "dan Niet inloggen.",
            "en": "You log in to Kluis as {handle}, on the screen where you scanned the QR "
            "code. You share no information with this. Did you not start that login yourself? "
            "Then choose Do not log in.",
        },
        "wallet.approve.login_allow": {"nl": "Inloggen", "en": "Log in"},
        "wallet.approve.login_refuse": {"nl": "Niet inloggen", "en": "Do not log in"},
        "wallet.logged_in.title": {"nl": "Ingelogd", "en": "Logged in"},
        "wallet.logged_in.body": {
            "nl": "Klaar. Ga terug naar het scherm waar je de QR-code hebt gescand.",
            "en": "Done. Go back to the screen where you scanned the QR code.",
        },
        "wallet.login_refused.title": {"nl": "Niet ingelogd", "en": "Not logged in"},
        "wallet.login_refused.body": {
            "nl": "Er is niet ingelogd, en je hebt niets gedeeld.",
            "en": "Nobody was logged in, and you shared nothing.",
        },
        "wallet.approve.purpose": {"nl": "Waarvoor", "en": "What for"},
        "wallet.approve.only": {
            "nl": "Je deelt alleen dit. Je naam en andere gegevens deel je niet.",
            "en": "You share only this. You do not share your name or anything else.",
        },
        "wallet.approve.allow": {"nl": "Delen", "en": "Share"},
        "wallet.approve.refuse": {"nl": "Niet delen", "en": "Do not share"},
        "wallet.pair.title": {"nl": "Koppelcode", "en": "Pairing code"},
        "wallet.pair.body": {
            "nl": "Typ de code van 4 cijfers die {platform} nu op zijn scherm laat zien. Zie je "
            "geen code? Of heb je deze QR-code niet zelf gescand? Stop dan. Misschien probeert "
            "iemand anders je gegevens te krijgen.",
            "en": "Type the 4-digit code that {platform} is showing on its screen now. No code "
            "visible? Or did you not scan this QR code yourself? Then stop. Someone else may be "
            "trying to get your data.",
        },
        "wallet.pair.field": {"nl": "Koppelcode", "en": "Pairing code"},
        "wallet.pair.submit": {"nl": "Verder", "en": "Continue"},
        "wallet.pair.wrong": {
            "nl": "Die code klopt niet. Je kunt het nog {left} keer proberen.",
            "en": "That code is not right. You have {left} more tries.",
        },
        "wallet.ended.title": {"nl": "Verzoek beëindigd", "en": "Request ended"},
        "wallet.ended.body": {
            "nl": "Dit verzoek is niet meer open. Het is verlopen, afgebroken of al beantwoord. "
            "Begin zo nodig opnieuw bij het platform.",
            "en": "This request is no longer open. It has expired, was cancelled or was already "
            "answered. If needed, start again at the platform.",
        },
        "wallet.pair_failed.body": {
            "nl": "De koppelcode is te vaak verkeerd ingevuld. Het verzoek is afgebroken en er "
            "is niets gedeeld.",
            "en": "The pairing code was entered wrongly too often. The request was cancelled and "
            "nothing was shared.",
        },
        "wallet.no_credential.title": {"nl": "Geen passend bewijs", "en": "No matching proof"},
        "wallet.no_credential.body": {
            "nl": "In je Kluis-wallet staat geen geldig bewijs met wat {platform} vraagt. Er is "
            "niets gedeeld. Vraag de gemeente of de balie om dit bewijs.",
            "en": "Your Kluis wallet has no valid proof with what {platform} asks for. Nothing "
            "was shared. Ask the municipality or the desk for this proof.",
        },
        # with nothing to share, the one answer left is to end the request
        "wallet.no_credential.close": {"nl": "Verzoek afsluiten", "en": "Close the request"},
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
            "nl": "Dit verzoek is al geopend met een ander account. Begin opnieuw bij het "
            "platform.",
            "en": "This request was already opened with another account. Start again at the "
            "platform.",
        },
    }
)
