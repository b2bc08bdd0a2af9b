"""The prose of the platform-side settings (identity.oidc.platform_settings) in Dutch and
English (registered on import). `kluis clients add` prints the English; the console shows the
page's language. Commands, settings and directives are never translated: they are what the
platform's plug-in reads. The English of each preset's notes comes from the preset itself."""

from __future__ import annotations

from core import register
from identity.oidc.presets import PRESETS

PREFIX = "platform_settings."

# What --base-url means and what was not verified, per preset: Dutch here, English in presets.py.
PRESET_NL: dict[str, tuple[str, tuple[str, ...]]] = {
    "nextcloud": (
        "het adres van Nextcloud, bijvoorbeeld https://cloud.example.nl",
        (
            "Nagegaan aan de broncode van user_oidc (routes, tokenverzoek, occ-opties), hier "
            "niet uitgevoerd.",
        ),
    ),
    "discourse": (
        "het adres van het forum, bijvoorbeeld https://forum.example.nl",
        (
            "Nagegaan aan de broncode van discourse-openid-connect (naam van de strategie, "
            "authenticatie, site-instellingen), hier niet uitgevoerd.",
            "openid_connect_use_pkce bestaat alleen in nieuwere versies van de plug-in; "
            "zonder die instelling bindt de nonce van de plug-in de code.",
        ),
    ),
    "decidim": (
        "het adres van Decidim, bijvoorbeeld https://decidim.example.nl",
        (
            "Decidim heeft geen eigen OpenID Connect-strategie: waar jouw versie de opties van "
            "de strategie bewaart (een initializer, secrets.yml of ENV) bepaalt de beheerder; "
            "de opties zelf zijn die waarmee de test draait.",
        ),
    ),
    "consul": (
        "het adres van Consul Democracy, bijvoorbeeld https://consul.example.nl",
        (
            "Inloggen met OIDC zit in nieuwere versies van Consul Democracy "
            "(docs/en/features/oauth.md); de namen in secrets behalve oidc_issuer zijn hier "
            "niet bevestigd.",
        ),
    ),
    "openstad": (
        "het adres van de API-server van OpenStad (zijn API_URL)",
        (
            "Vraagt een OpenStad waarvan de oidc-adapter PKCE heeft (pkceEnabled; de branch "
            "feat/yivi-https-local van openstad-headless, maart 2026). Uitgebrachte versies tot "
            "en met v2.6 sturen geen PKCE of nonce en een redirect_uri die per login verandert; "
            "die weigert Kluis.",
            "Nagegaan aan de broncode van de adapter, hier niet uitgevoerd; waar de "
            "authenticatie-instellingen van het project staan, hangt af van de versie.",
        ),
    ),
    "mastodon": (
        "het adres van de instance, bijvoorbeeld https://social.example.nl",
        (
            "Mastodon zelf draait hier niet (de strategie wel). OIDC_USE_PKCE en "
            "OIDC_IDP_LOGOUT_REDIRECT_URI staan in config/omniauth.yml van Mastodon 4; oudere "
            "versies negeren ze, en dan bindt de nonce van de strategie de code.",
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
        "nl": "Verwijderen: de plug-in kan de verwijderberichten van Kluis niet ontvangen. "
        "Kluis zet het platform bij een verwijderverzoek op 'zelf inlichten'; leg met `kluis "
        "erasure handled` (of in de beheeromgeving bij Verwijderverzoeken) vast dat de beheerder "
        "van het platform de gebruiker heeft verwijderd wiens id de `sub` van de bewoner is.",
        "en": "Erasure: the plug-in has no receiver for Kluis's erasure events; `kluis accounts "
        "delete` lists the platform as told by hand, and `kluis erasure handled` records it once "
        "the platform's administrator has removed the user whose id is the resident's `sub`.",
    },
    "back_channel": {
        "nl": " Bij verwijderen stuurt Kluis ook een back-channel-uitlogbericht, dat de sessies "
        "van de bewoner beëindigt.",
        "en": " The erasure also sends a back-channel logout token, which ends the resident's "
        "sessions.",
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
        "nl": "(of in `rails c`: SiteSetting.openid_connect_enabled = true, enzovoort).",
        "en": "(or in `rails c`: SiteSetting.openid_connect_enabled = true, and so on).",
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
        "nl": "pkceEnabled en het form-contenttype zijn nodig: de adapter stuurt geen nonce, en "
        "het token-endpoint van Kluis neemt form-encoded verzoeken (RFC 6749 §4.1.3).",
        "en": "pkceEnabled and the form content type are required: the adapter sends no nonce, "
        "and Kluis's token endpoint takes form-encoded requests (RFC 6749 §4.1.3).",
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
        base_url_is, unsure = PRESET_NL[name]
        found[f"preset.{name}.base_url_is"] = {"nl": base_url_is, "en": preset.base_url_is}
        for i, note in enumerate(preset.unsure):
            found[f"preset.{name}.unsure.{i}"] = {"nl": unsure[i], "en": note}
    return found


register({PREFIX + key: texts for key, texts in {**MESSAGES, **_preset_messages()}.items()})
