"""Dutch and English texts of the verification widget and the hosted page (registered on
import). The widget script gets the `verify.widget.*` texts from here when it is served, so
the page and the script say the same things in the same words."""

from __future__ import annotations

from core import register

WIDGET_KEYS = (
    "verify.widget.scan",
    "verify.widget.scan_other",
    "verify.widget.qr_alt",
    "verify.widget.open",
    "verify.widget.open_desktop",
    "verify.widget.status.pending",
    "verify.widget.status.scanned",
    "verify.widget.status.done",
    "verify.widget.status.cancelled",
    "verify.widget.status.expired",
    "verify.widget.status.unavailable",
    "verify.widget.pairing",
    "verify.widget.pairing_status",
)

register(
    {
        "verify.title": {"nl": "Bewijzen met je wallet", "en": "Prove it with your wallet"},
        "verify.asks": {
            "nl": "{platform} vraagt je iets te bewijzen: {purpose}",
            "en": "{platform} asks you to prove something: {purpose}",
        },
        "verify.only_asked": {
            "nl": "Je wallet laat alleen zien wat gevraagd wordt, en pas als jij het goedkeurt.",
            "en": "Your wallet shows only what is asked, and only when you approve.",
        },
        "verify.check_again": {"nl": "Status opnieuw bekijken", "en": "Check the status again"},
        "verify.return": {"nl": "Terug naar {platform}", "en": "Back to {platform}"},
        "verify.ended.title": {
            "nl": "Dit verzoek bestaat niet meer",
            "en": "This request no longer exists",
        },
        "verify.ended.body": {
            "nl": "Het verzoek is verlopen of de link klopt niet. Ga terug naar de website die "
            "je hierheen stuurde en begin opnieuw.",
            "en": "The request has expired or the link is not right. Go back to the website that "
            "sent you here and start again.",
        },
        "verify.widget.scan": {
            "nl": "Scan deze QR-code met de wallet-app op je telefoon.",
            "en": "Scan this QR code with the wallet app on your phone.",
        },
        "verify.widget.scan_other": {
            "nl": "Of scan deze QR-code met de wallet-app op een andere telefoon.",
            "en": "Or scan this QR code with the wallet app on another phone.",
        },
        "verify.widget.qr_alt": {
            "nl": "QR-code voor je wallet-app. Op een telefoon gebruik je de link hieronder.",
            "en": "QR code for your wallet app. On a phone, use the link below.",
        },
        "verify.widget.open": {
            "nl": "Open je wallet-app op deze telefoon",
            "en": "Open your wallet app on this phone",
        },
        "verify.widget.open_desktop": {
            "nl": "Werk je op je telefoon? Open dan je wallet-app",
            "en": "On your phone? Open your wallet app",
        },
        "verify.widget.status.pending": {
            "nl": "Wacht op je wallet…",
            "en": "Waiting for your wallet…",
        },
        "verify.widget.status.scanned": {
            "nl": "Je wallet heeft het verzoek geopend. Keur het goed in je wallet.",
            "en": "Your wallet has opened the request. Approve it in your wallet.",
        },
        "verify.widget.status.done": {
            "nl": "Gelukt: je wallet heeft geantwoord.",
            "en": "Done: your wallet has answered.",
        },
        "verify.widget.status.cancelled": {
            "nl": "Het verzoek is geannuleerd.",
            "en": "The request was cancelled.",
        },
        "verify.widget.status.expired": {
            "nl": "Het verzoek is verlopen. Begin opnieuw.",
            "en": "The request has expired. Start again.",
        },
        "verify.widget.status.unavailable": {
            "nl": "De status is nu niet op te halen. We proberen het opnieuw…",
            "en": "The status cannot be fetched just now. Trying again…",
        },
        "verify.widget.pairing": {
            "nl": "Typ deze code in je wallet-app:",
            "en": "Type this code in your wallet app:",
        },
        "verify.widget.pairing_status": {
            "nl": "Je wallet vraagt om een code. Typ {code} in je wallet-app.",
            "en": "Your wallet asks for a code. Type {code} in your wallet app.",
        },
    }
)
