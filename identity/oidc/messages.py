"""Dutch and English texts of the provider's pages."""

from core import register

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
            "nl": "Dit platform kan niet zonder de gegevens met 'nodig'. Wil je die niet delen? "
            "Kies dan Weigeren.",
            "en": "This platform cannot do without the items marked 'required'. Do you not want "
            "to share them? Then choose Deny.",
        },
        "consent.not_held": {
            "nl": "heb je nog niet bij Kluis: het platform krijgt het pas als je het hebt",
            "en": "not at Kluis yet: the platform gets it only once you have it",
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
            "nl": "Kluis kent het platform niet dat je hierheen stuurde. Ga terug naar het "
            "platform en meld dit daar.",
            "en": "Kluis does not know the platform that sent you here. Go back to the platform "
            "and report this there.",
        },
        "oidc_error.invalid_redirect_uri": {
            "nl": "Het terugadres van het platform klopt niet. Daarom stuurt Kluis je niet terug. "
            "Meld dit bij het platform.",
            "en": "The platform's return address is not right. That is why Kluis does not send "
            "you back. Report this to the platform.",
        },
        "oidc_error.invalid_request": {
            "nl": "Het platform stuurde een verzoek dat niet klopt. Ga terug naar het platform en "
            "probeer het opnieuw.",
            "en": "The platform sent a request that is not right. Go back to the platform and try "
            "again.",
        },
        "oidc_error.request_expired": {
            "nl": "Dit inlogverzoek is verlopen of in een andere browser begonnen. Ga terug "
            "naar het platform en probeer het opnieuw.",
            "en": "This login request has expired or was started in another browser. Go back "
            "to the platform and try again.",
        },
        "oidc_error.invalid_logout": {
            "nl": "Dit verzoek om uit te loggen klopt niet. Ga terug naar het platform en probeer "
            "het opnieuw.",
            "en": "This request to log out is not right. Go back to the platform and try again.",
        },
    }
)
