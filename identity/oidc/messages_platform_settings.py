"""The prose of the platform-side settings (identity.oidc.platform_settings) in Dutch and
English (registered on import). `kluis clients add` prints the English; the console shows the
page's language. Commands, settings and directives are never translated: they are what the
platform's plug-in reads. The English of each preset's notes comes from the preset itself."""

from __future__ import annotations

from core import register
from identity.oidc.presets import PRESETS

PREFIX = "platform_settings."

# What --base-url means and the notes for the operator, per preset: Dutch here, English in
# presets.py. The notes say what depends on the platform's version or set-up, in plain words.
PRESET_NL: dict[str, tuple[str, tuple[str, ...]]] = {
    "nextcloud": ("het adres van Nextcloud, bijvoorbeeld https://cloud.example.nl", ()),
    "discourse": (
        "het adres van het forum, bijvoorbeeld https://forum.example.nl",
        (
            "De instelling openid_connect_use_pkce bestaat alleen in nieuwere versies van de "
            "plug-in. Heeft jouw versie haar niet, laat haar dan weg: het inloggen blijft "
            "beschermd door de nonce van de plug-in.",
        ),
    ),
    "decidim": (
        "het adres van Decidim, bijvoorbeeld https://decidim.example.nl",
        (
            "Waar deze opties komen te staan (een initializer, secrets.yml of "
            "omgevingsvariabelen) hangt af van hoe jouw Decidim is ingericht.",
        ),
    ),
    "consul": (
        "het adres van Consul Democracy, bijvoorbeeld https://consul.example.nl",
        (
            "Alleen nieuwere versies van Consul Democracy kunnen inloggen met OpenID Connect. "
            "Controleer de namen van de instellingen in config/secrets.yml in de documentatie "
            "van jouw versie (docs/en/features/oauth.md); alleen oidc_issuer staat vast.",
        ),
    ),
    "openstad": (
        "het adres van de API-server van OpenStad (zijn API_URL)",
        (
            "Dit vraagt een OpenStad waarvan de oidc-adapter PKCE ondersteunt (de instelling "
            "pkceEnabled, in de branch feat/yivi-https-local van openstad-headless, maart "
            "2026). Uitgebrachte versies tot en met v2.6 kunnen niet inloggen met Kluis: ze "
            "sturen geen PKCE of nonce, en een terugkeeradres dat bij elke login verandert.",
            "Waar je de authenticatie-instellingen van het project aanpast, hangt af van de "
            "versie van OpenStad.",
        ),
    ),
    "mastodon": (
        "het adres van de instance, bijvoorbeeld https://social.example.nl",
        (
            "OIDC_USE_PKCE en OIDC_IDP_LOGOUT_REDIRECT_URI werken vanaf Mastodon 4. Oudere "
            "versies negeren ze; het inloggen blijft dan beschermd door de nonce.",
        ),
    ),
    "apache": ("de beschermde locatie, bijvoorbeeld https://site.example.nl/app/", ()),
}

MESSAGES: dict[str, dict[str, str]] = {
    "not_shown": {
        "nl": "(alleen te zien als het platform wordt toegevoegd of het geheim wordt vernieuwd)",
        "en": "(shown only when the client is created or its secret rotated)",
    },
    "by_hand": {
        "nl": "Deze plug-in kan de verwijderverzoeken van Kluis niet ontvangen. Vraagt een "
        "bewoner om verwijdering, dan staat dit platform in het verzoek bij 'Zelf inlichten'. "
        "Vraag dan de beheerder van het platform de gebruiker te verwijderen wiens gebruikers-id "
        "de sub van de bewoner is, en leg daarna vast dat het gebeurd is: in de "
        "beheeromgeving bij Verwijderverzoeken, of met de opdracht kluis erasure handled.",
        "en": "This plug-in cannot receive Kluis's erasure requests. When a resident asks to be "
        "erased, the request lists this platform under 'Tell by hand'. Then ask the platform's "
        "administrator to remove the user whose user ID is the resident's sub, and afterwards "
        "record that this was done: in the operators' console under Erasure requests, or "
        "with the command kluis erasure handled.",
    },
    "back_channel": {
        "nl": " Bij verwijderen stuurt Kluis ook een back-channel-uitlogbericht, dat de sessies "
        "van de bewoner op het platform beëindigt.",
        "en": " On erasure Kluis also sends a back-channel logout message, which ends the "
        "resident's sessions on the platform.",
    },
    "nextcloud.install": {
        "nl": "Installeer de app 'OpenID Connect user backend' (user_oidc) en voer dan uit:",
        "en": "Install the app 'OpenID Connect user backend' (user_oidc), then run:",
    },
    "nextcloud.or": {
        "nl": "Of in Beheerdersinstellingen → OpenID Connect → Registreren: identifier kluis, "
        "de client-id en het geheim, het discovery-adres en de scope hierboven, en als "
        "attribuutkoppeling User ID = sub, Display name = name, Email = email.",
        "en": "Or in Administration settings → OpenID Connect → Register: identifier kluis, the "
        "client ID and secret, discovery endpoint and scope above, attribute mapping User ID = "
        "sub, Display name = name, Email = email.",
    },
    "nextcloud.identifier": {
        "nl": "De identifier van de provider moet 'kluis' blijven: het back-channel-uitlogadres "
        "eindigt erop.",
        "en": "The provider identifier must stay 'kluis': the back-channel logout URI ends in it.",
    },
    "discourse.install": {
        "nl": "Installeer de plug-in discourse-openid-connect en zet dan in Admin → Settings → "
        "Plugins (filter 'openid_connect'):",
        "en": "Install the plug-in discourse-openid-connect, then in Admin → Settings → Plugins "
        "(filter 'openid_connect') set:",
    },
    "discourse.rails": {
        "nl": "(of in de Rails-console, rails c: SiteSetting.openid_connect_enabled = true, "
        "enzovoort).",
        "en": "(or in the Rails console, rails c: SiteSetting.openid_connect_enabled = true, and "
        "so on).",
    },
    "decidim.where": {
        "nl": "Decidim heeft geen eigen OpenID Connect-strategie: registreer "
        "omniauth_openid_connect bij Devise (config.omniauth :openid_connect, {…} in een "
        "initializer, de waarden uit secrets.yml of ENV) en bied die aan op de inlogpagina, "
        "met deze opties:",
        "en": "Decidim has no OpenID Connect strategy of its own: register "
        "omniauth_openid_connect with Devise (config.omniauth :openid_connect, {…} in an "
        "initializer, the values from secrets.yml or ENV) and offer it on the login page, with "
        "these options:",
    },
    "consul.where": {
        "nl": "Het OIDC-inloggen van Consul Democracy (nieuwere versies) registreert deze "
        "strategie zelf vanuit config/secrets.yml (oidc_issuer en de id en het geheim van de "
        "client); het moet uitkomen op deze opties:",
        "en": "Consul Democracy's OIDC login (newer releases) registers this strategy itself "
        "from config/secrets.yml (oidc_issuer and the client's id and secret); it must end up "
        "with these options:",
    },
    "omniauth.register": {
        "nl": "Registreer de omniauth-strategie openid_connect onder de naam :{name} (callback "
        "{prefix}/{name}/callback) met deze opties:",
        "en": "Register the omniauth strategy openid_connect under the name :{name} (callback "
        "{prefix}/{name}/callback) with these options:",
    },
    "omniauth.pkce": {
        "nl": "Zet pkce: true aan als de versie van de gem het heeft.",
        "en": "Turn on pkce: true where the gem's version has it.",
    },
    "mastodon.env": {
        "nl": "In .env.production (start Mastodon daarna opnieuw):",
        "en": "In .env.production (then restart Mastodon):",
    },
    "openstad.provider": {
        "nl": "In de authenticatie-instellingen van het project, een auth provider met de "
        "oidc-adapter:",
        "en": "In the project's authentication settings, an auth provider with the oidc adapter:",
    },
    "openstad.pkce": {
        "nl": "Laat pkceEnabled en serverExchangeContentType staan zoals hierboven: de adapter "
        "stuurt geen nonce, dus PKCE beschermt het inloggen, en Kluis neemt de code alleen "
        "form-encoded aan.",
        "en": "Keep pkceEnabled and serverExchangeContentType as above: the adapter sends no "
        "nonce, so PKCE protects the login, and Kluis takes the code only form-encoded.",
    },
    "apache.vhost": {
        "nl": "In de <VirtualHost> van de site (a2enmod auth_openidc):",
        "en": "In the site's <VirtualHost> (a2enmod auth_openidc):",
    },
    "apache.proxy": {
        "nl": "Een reverse proxy naar de applicatie moet {path} aan de module laten (ProxyPass "
        "… !).",
        "en": "A reverse proxy to the application must leave {path} to the module (ProxyPass … !).",
    },
    "apache.whole_site": {
        "nl": "De hele site is beschermd, dus na uitloggen start / een nieuwe login: registreer "
        "met --post-logout-redirect-uri een pagina daarbuiten als bewoners er een moeten zien.",
        "en": "The whole site is protected, so after logout / starts a new login: register a "
        "page outside it with --post-logout-redirect-uri if residents should see one.",
    },
}


def _preset_messages() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for name, preset in PRESETS.items():
        base_url_is, notes = PRESET_NL[name]
        found[f"preset.{name}.base_url_is"] = {"nl": base_url_is, "en": preset.base_url_is}
        for i, note in enumerate(preset.notes):
            found[f"preset.{name}.notes.{i}"] = {"nl": notes[i], "en": note}
    return found


register({PREFIX + key: texts for key, texts in {**MESSAGES, **_preset_messages()}.items()})
