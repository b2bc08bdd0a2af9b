"""Dutch and English texts of login by QR (registered on import)."""

from __future__ import annotations

from core import register

register(
    {
        "accounts.wallet.title": {"nl": "Inloggen met je wallet", "en": "Log in with your wallet"},
        "accounts.wallet.intro": {
            "nl": "Heb je een bewijs van Kluis in je wallet-app? Scan dan een QR-code met je "
            "telefoon. Je hebt geen wachtwoord nodig.",
            "en": "Do you have a proof from Kluis in your wallet app? Then scan a QR code with "
            "your phone. You do not need a password.",
        },
        "accounts.wallet.start": {"nl": "Log in met je wallet", "en": "Log in with your wallet"},
        "accounts.wallet.required": {
            "nl": "Voor deze dienst log je in met je wallet-app. Een wachtwoord is hier niet "
            "genoeg.",
            "en": "For this service you log in with your wallet app. A password is not enough "
            "here.",
        },
        "accounts.wallet.password_instead": {
            "nl": "Of log in met je wachtwoord",
            "en": "Or log in with your password",
        },
        "accounts.wallet.purpose": {"nl": "Inloggen bij Kluis", "en": "Log in to Kluis"},
        "accounts.wallet.scan": {
            "nl": "Scan deze QR-code met de wallet-app op je telefoon.",
            "en": "Scan this QR code with the wallet app on your phone.",
        },
        "accounts.wallet.qr_alt": {
            "nl": "QR-code om in te loggen met je wallet",
            "en": "QR code to log in with your wallet",
        },
        "accounts.wallet.link": {
            "nl": "Werk je op je telefoon? Open de wallet-app",
            "en": "On your phone? Open the wallet app",
        },
        "accounts.wallet.only_here": {
            "nl": "De QR-code werkt alleen in deze browser. Scan hem alleen als je hem zelf "
            "hebt opgevraagd, hier op de site van Kluis.",
            "en": "The QR code only works in this browser. Scan it only if you asked for it "
            "yourself, here on the Kluis site.",
        },
        "accounts.wallet.continue": {
            "nl": "Ik heb gescand, ga verder",
            "en": "I have scanned, continue",
        },
        "accounts.wallet.status.pending": {
            "nl": "Wachten op je wallet…",
            "en": "Waiting for your wallet…",
        },
        "accounts.wallet.status.scanned": {
            "nl": "Gescand. Bevestig in je wallet-app.",
            "en": "Scanned. Confirm in your wallet app.",
        },
        "accounts.wallet.pairing": {
            "nl": "Gebruik je de Kluis-wallet? Typ deze koppelcode op je telefoon:",
            "en": "Using the Kluis wallet? Type this pairing code on your phone:",
        },
        "accounts.wallet.status.done": {
            "nl": "Ontvangen. Je wordt ingelogd…",
            "en": "Received. Logging you in…",
        },
        "accounts.wallet.status.expired": {
            "nl": "De QR-code is verlopen.",
            "en": "The QR code has expired.",
        },
        "accounts.wallet.status.cancelled": {
            "nl": "Het inloggen is afgebroken in de wallet.",
            "en": "The login was cancelled in the wallet.",
        },
        "accounts.wallet.status.used": {
            "nl": "Deze QR-code is al gebruikt.",
            "en": "This QR code has already been used.",
        },
        "accounts.wallet.throttled": {
            "nl": "Vanaf deze internetverbinding is te vaak geprobeerd om in te loggen met een "
            "wallet. Probeer het over {minutes} minuten opnieuw.",
            "en": "Logging in with a wallet was tried too often from this internet connection. "
            "Please try again in {minutes} minutes.",
        },
        "accounts.wallet.restart": {"nl": "Opnieuw inloggen", "en": "Log in again"},
        "accounts.wallet.gone.title": {
            "nl": "Deze inlogpoging geldt niet meer",
            "en": "This login attempt is no longer valid",
        },
        "accounts.wallet.refused.title": {
            "nl": "Inloggen met dit bewijs lukt niet",
            "en": "This proof cannot log you in",
        },
        "accounts.wallet.error.gone": {
            "nl": "De inlogpoging is verlopen, al gebruikt, of in een andere browser gestart. "
            "Begin opnieuw.",
            "en": "The login attempt has expired, was already used, or was started in another "
            "browser. Please start again.",
        },
        "accounts.wallet.error.pending": {
            "nl": "Je wallet heeft nog niet geantwoord. Scan eerst de QR-code en bevestig in "
            "je wallet-app.",
            "en": "Your wallet has not answered yet. Scan the QR code first and confirm in "
            "your wallet app.",
        },
        "accounts.wallet.error.refused": {
            "nl": "Het bewijs in je wallet is ingetrokken, verlopen of hoort niet (meer) bij een "
            "account. Log in met je wachtwoord of vraag een nieuw bewijs aan.",
            "en": "The proof in your wallet was revoked, has expired or no longer belongs to an "
            "account. Log in with your password or ask for a new proof.",
        },
    }
)
