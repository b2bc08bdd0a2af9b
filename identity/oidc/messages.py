"""Dutch and English texts of the provider's pages."""

from core.i18n import register

register(
    {
        "consent.title": {"nl": "Toestemming geven", "en": "Give consent"},
        "consent.intro": {
            "nl": "{client} vraagt om de volgende gegevens. Kies wat je wilt delen.",
            "en": "{client} asks for the following information. Choose what you want to share.",
        },
        "consent.purpose": {"nl": "Waarvoor", "en": "What for"},
        "consent.claims_legend": {"nl": "Gegevens", "en": "Information"},
        "consent.required": {"nl": "nodig", "en": "required"},
        "consent.poll": {"nl": "stemming", "en": "poll"},
        "consent.required_help": {
            "nl": "Gegevens met 'nodig' zijn noodzakelijk voor dit platform. Wil je die niet "
            "delen, kies dan Weigeren.",
            "en": "Items marked 'required' are needed by this platform. If you do not want to "
            "share them, choose Deny.",
        },
        "consent.none": {
            "nl": "Dit platform vraagt alleen een schuilnaam, geen andere gegevens.",
            "en": "This platform only asks for a pseudonym, no other information.",
        },
        "consent.withdraw_hint": {
            "nl": "Je kunt je toestemming altijd weer intrekken.",
            "en": "You can withdraw your consent at any time.",
        },
        "consent.offline_legend": {"nl": "Blijvende toegang", "en": "Lasting access"},
        "consent.offline": {
            "nl": "{client} mag deze gegevens ook ophalen als je niet bent ingelogd",
            "en": "{client} may also fetch this information when you are not logged in",
        },
        "consent.allow": {"nl": "Toestaan", "en": "Allow"},
        "consent.deny": {"nl": "Weigeren", "en": "Deny"},
        "logout.title": {"nl": "Uitloggen", "en": "Log out"},
        "logout.question": {
            "nl": "Wil je uitloggen bij Kluis?",
            "en": "Do you want to log out of Kluis?",
        },
        "logout.question_client": {
            "nl": "Wil je uitloggen bij Kluis en {client}?",
            "en": "Do you want to log out of Kluis and {client}?",
        },
        "logout.confirm": {"nl": "Ja, uitloggen", "en": "Yes, log out"},
        "logout.cancel": {"nl": "Nee, ingelogd blijven", "en": "No, stay logged in"},
        "logout.done_title": {"nl": "Je bent uitgelogd", "en": "You are logged out"},
        "logout.done": {
            "nl": "Je bent uitgelogd. Je kunt dit venster sluiten.",
            "en": "You are logged out. You can close this window.",
        },
        "oidc_error.title": {
            "nl": "Dit verzoek kan niet verder",
            "en": "This request cannot continue",
        },
        "oidc_error.unknown_client": {
            "nl": "Het platform dat je hierheen stuurde is niet bij Kluis bekend.",
            "en": "The platform that sent you here is not known to Kluis.",
        },
        "oidc_error.invalid_redirect_uri": {
            "nl": "Het terugadres van het platform klopt niet. Je wordt daarom niet teruggestuurd.",
            "en": "The platform's return address is not registered, so you are not sent back.",
        },
        "oidc_error.invalid_request": {
            "nl": "Het verzoek van het platform is ongeldig.",
            "en": "The platform's request is not valid.",
        },
        "oidc_error.request_expired": {
            "nl": "Dit inlogverzoek is verlopen of in een andere browser begonnen. Ga terug "
            "naar het platform en probeer het opnieuw.",
            "en": "This login request has expired or was started in another browser. Go back "
            "to the platform and try again.",
        },
        "oidc_error.invalid_logout": {
            "nl": "Dit uitlogverzoek is ongeldig.",
            "en": "This logout request is not valid.",
        },
    }
)
