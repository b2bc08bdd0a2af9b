"""Platform presets for `kluis clients add --preset NAME --base-url URL`: the client metadata
that each platform's stock OpenID Connect plug-in expects, as data. A preset only fills a
`ClientSpec`; the client is created by the same `create_client` as any other, and explicit
values given beside the preset win (`preset_spec(..., overrides)`).

URI templates are filled with `{base}` (the base URL without a trailing slash) and `{origin}`
(its scheme and host). Where each value comes from, and how far it was verified, is noted beside
it, for the maintainers. `notes` is for the operator: what depends on the platform's version
or set-up, in plain words, printed and shown with the settings (Dutch in
`identity/oidc/messages_platform_settings.py`).
The settings to type on the platform's side are in `identity/oidc/platform_settings.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from identity.oidc.clients import ClientSpec, validate_uri
from identity.oidc.errors import InvalidClientMetadata

# What the stock plug-ins ask for: the subject, e-mail and name.
LOGIN_SCOPE = "openid email profile"
# Participation platforms may also ask for proofs (postcode area, 18+, real person); the
# client may ask for them, and each still needs the resident's consent per field.
PROOF_SCOPE = "residence age real_person"


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    platform: str  # the client name when --name is not given
    plugin: str  # the relying-party software on the platform's side
    base_url_is: str  # what --base-url means for this platform
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ("{base}/",)
    backchannel_logout_uri: str | None = None  # only where the plug-in receives them
    auth_method: str = "client_secret_basic"
    id_token_alg: str = "RS256"  # noqa: S105 (an algorithm name)
    scope: str = LOGIN_SCOPE  # what the platform asks for (and all the client may ask for)
    extra_scope: str = ""  # what the client may ask for beyond that
    notes: tuple[str, ...] = ()  # for the operator: what depends on the platform's version


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            name="nextcloud",
            platform="Nextcloud",
            plugin="user_oidc (OpenID Connect user backend)",
            base_url_is="Nextcloud's address, e.g. https://cloud.example.nl",
            # nextcloud/user_oidc appinfo/routes.php: login#code at /code (GET); Nextcloud
            # links it with /index.php/ unless pretty URLs are on, so both are registered.
            redirect_uris=("{base}/apps/user_oidc/code", "{base}/index.php/apps/user_oidc/code"),
            # routes.php: login#backChannelLogout, POST /backchannel-logout/{providerIdentifier};
            # the provider identifier is the one the printed occ command creates: kluis.
            backchannel_logout_uri="{base}/index.php/apps/user_oidc/backchannel-logout/kluis",
            # lib/Controller/LoginController.php (code): client_id and client_secret in the body.
            auth_method="client_secret_post",
            # lib/Command/UpsertProvider.php: --scope defaults to "openid email profile".
            # All of the above checked against user_oidc's source, not run end to end.
        ),
        Preset(
            name="discourse",
            platform="Discourse",
            plugin="discourse-openid-connect",
            base_url_is="the forum's address, e.g. https://forum.example.nl",
            # lib/openid_connect_authenticator.rb: the omniauth strategy is named "oidc", so
            # its callback is /auth/oidc/callback.
            redirect_uris=("{base}/auth/oidc/callback",),
            # plugin.rb: RP-initiated logout sends id_token_hint and
            # openid_connect_rp_initiated_logout_redirect as post_logout_redirect_uri.
            # lib/omniauth_open_id_connect.rb: client_options auth_scheme :basic_auth.
            # Checked against discourse-openid-connect's source (strategy name, auth scheme,
            # site settings), not run end to end. Without openid_connect_use_pkce (older
            # versions) the plug-in's nonce binds the code.
            auth_method="client_secret_basic",
            notes=(
                "The setting openid_connect_use_pkce exists only in newer versions of the "
                "plug-in. If yours does not have it, leave it out: login stays protected by "
                "the plug-in's nonce.",
            ),
        ),
        Preset(
            name="decidim",
            platform="Decidim",
            plugin="omniauth_openid_connect (Devise)",
            base_url_is="Decidim's address, e.g. https://decidim.example.nl",
            # Devise mounts omniauth at /users/auth/<strategy>; the strategy is openid_connect
            # (Decidim's social-provider docs: /users/auth/<provider>/callback).
            redirect_uris=("{base}/users/auth/openid_connect/callback",),
            # omniauth_openid_connect: client_auth_method :basic (verified end to end by
            # tests/e2e/platforms/test_omniauth.py with Debian's gem).
            # The options are the ones tests/e2e/platforms/test_omniauth.py runs; Decidim has no
            # OIDC strategy of its own, so where they are kept is its administrator's choice.
            extra_scope=PROOF_SCOPE,
            notes=(
                "Where these options go (an initializer, secrets.yml or environment variables) "
                "depends on how your Decidim is set up.",
            ),
        ),
        Preset(
            name="consul",
            platform="Consul Democracy",
            plugin="omniauth_openid_connect (Consul Democracy's OIDC login)",
            base_url_is="Consul Democracy's address, e.g. https://consul.example.nl",
            # Consul Democracy docs/en/features/oauth.md (OIDC): strategy name :oidc, Devise
            # prefix /users/auth, client_auth_method :basic, scope openid email profile.
            redirect_uris=("{base}/users/auth/oidc/callback",),
            # The secrets names other than oidc_issuer are not confirmed by its source.
            extra_scope=PROOF_SCOPE,
            notes=(
                "Only newer versions of Consul Democracy can log in with OpenID Connect. Check "
                "the names of the settings in config/secrets.yml in your version's "
                "documentation (docs/en/features/oauth.md); only oidc_issuer is certain.",
            ),
        ),
        Preset(
            name="openstad",
            platform="OpenStad",
            plugin="OpenStad's auth server, oidc adapter",
            base_url_is="the address of OpenStad's API server (its API_URL)",
            # openstad-headless apps/api-server/src/adapter/oidc/router.js as of the branch
            # feat/yivi-https-local (a777edb, March 2026, "PKCE verifier"): redirect_uri is
            # config.url + '/auth/digest-login'; the code exchange posts client_id,
            # client_secret and code_verifier in a form body; no nonce, so pkceEnabled.
            # Released versions (v2.6, main of July 2026) send neither PKCE nor a nonce and a
            # redirect_uri with the project id and a returnTo that changes per login: Kluis
            # refuses both (RFC 9700 §2.1.1, §4.1.3), and must not special-case them.
            redirect_uris=("{base}/auth/digest-login",),
            # the adapter's logout does not call the provider's end-session endpoint
            post_logout_redirect_uris=(),
            auth_method="client_secret_post",
            # Checked against the adapter's source, not run end to end.
            extra_scope=PROOF_SCOPE,
            notes=(
                "This needs an OpenStad whose oidc adapter supports PKCE (the setting "
                "pkceEnabled, in the branch feat/yivi-https-local of openstad-headless, March "
                "2026). Released versions up to v2.6 cannot log in with Kluis: they send no "
                "PKCE or nonce, and a return address that changes with every login.",
                "Where the project's authentication settings are edited depends on the "
                "version of OpenStad.",
            ),
        ),
        Preset(
            name="mastodon",
            platform="Mastodon",
            plugin="omniauth_openid_connect (Mastodon's OIDC_* settings)",
            base_url_is="the instance's address, e.g. https://social.example.nl",
            # Mastodon's Devise mounts omniauth under /auth: /auth/auth/openid_connect/callback
            # (also the OIDC_REDIRECT_URI of Mastodon's own documentation).
            redirect_uris=("{base}/auth/auth/openid_connect/callback",),
            # config/omniauth.yml: OIDC_CLIENT_AUTH_METHOD (default basic), OIDC_USE_PKCE,
            # OIDC_IDP_LOGOUT_REDIRECT_URI; User::Omniauthable makes the user name from the uid.
            # Mastodon itself is not run end to end (its omniauth strategy is).
            notes=(
                "OIDC_USE_PKCE and OIDC_IDP_LOGOUT_REDIRECT_URI work from Mastodon 4 on. Older "
                "versions ignore them; login then stays protected by the nonce.",
            ),
        ),
        Preset(
            name="apache",
            platform="Apache httpd",
            plugin="mod_auth_openidc",
            base_url_is="the protected location, e.g. https://site.example.nl/app/",
            # OIDCRedirectURI: a path inside the protected location that the application never
            # serves (mod_auth_openidc's documentation); the same URI with ?logout=backchannel
            # is its back-channel logout endpoint. Verified by tests/e2e/platforms/test_apache.py.
            redirect_uris=("{base}/redirect_uri",),
            post_logout_redirect_uris=("{origin}/",),
            backchannel_logout_uri="{base}/redirect_uri?logout=backchannel",
            # OIDCProviderTokenEndpointAuth defaults to client_secret_basic.
            extra_scope=PROOF_SCOPE,  # any site may need a proof; OIDCScope says which
        ),
    )
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise InvalidClientMetadata(f"unknown preset {name!r}; one of {sorted(PRESETS)}") from None


def base_of(base_url: str) -> tuple[str, str]:
    """(base without trailing slash, origin) of an absolute https URL (http on loopback)."""
    validate_uri(base_url, "--base-url")
    parts = urlsplit(base_url)
    if parts.query:
        raise InvalidClientMetadata("--base-url must not contain a query")
    return base_url.rstrip("/"), f"{parts.scheme}://{parts.netloc}"


def fill(template: str, base_url: str) -> str:
    base, origin = base_of(base_url)
    return template.format(base=base, origin=origin)


def preset_values(preset: Preset, base_url: str) -> dict[str, Any]:
    """The `ClientSpec` fields the preset fills for a platform at `base_url`."""
    scope = f"{preset.scope} {preset.extra_scope}".strip()
    return {
        "name": preset.platform,
        "redirect_uris": tuple(fill(t, base_url) for t in preset.redirect_uris),
        "post_logout_redirect_uris": tuple(
            fill(t, base_url) for t in preset.post_logout_redirect_uris
        ),
        "backchannel_logout_uri": (
            fill(preset.backchannel_logout_uri, base_url) if preset.backchannel_logout_uri else None
        ),
        "token_endpoint_auth_method": preset.auth_method,
        "id_token_alg": preset.id_token_alg,
        "scope": scope,
    }


def preset_spec(preset: Preset, base_url: str, overrides: Mapping[str, Any]) -> ClientSpec:
    """The preset's client for `base_url`; every override that is given (not None) wins.
    A public client, or one with its own keys, drops the preset's secret-based auth method
    (`create_client` then picks none or private_key_jwt)."""
    values = preset_values(preset, base_url)
    given = {k: v for k, v in overrides.items() if v is not None}
    keyed = given.get("public") or given.get("jwks") or given.get("jwks_uri")
    if keyed and "token_endpoint_auth_method" not in given:
        values.pop("token_endpoint_auth_method")
    return ClientSpec(**{**values, **given})
