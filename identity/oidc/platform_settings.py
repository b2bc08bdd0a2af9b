"""What to type on the platform's side after `kluis clients add --preset …`: the discovery
URL, the client's id and secret, the scopes, the claim mapping, and the exact commands,
settings or directives of that platform's plug-in (docs/platforms/ has a guide per platform).
Sources are noted in `identity/oidc/presets.py`."""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from core import translate
from identity.oidc.messages_platform_settings import PREFIX
from identity.oidc.presets import Preset, base_of

DISCOVERY_PATH = "/.well-known/openid-configuration"


def _text(lang: str, key: str, **params: object) -> str:
    """The prose in `lang` (identity.oidc.messages_platform_settings)."""
    return translate(lang, PREFIX + key, **params)


@dataclasses.dataclass(frozen=True)
class Context:
    issuer: str
    base: str
    origin: str
    client_id: str
    secret: str
    redirect_uri: str
    post_logout_redirect_uri: str
    lang: str = "en"

    def t(self, key: str, **params: object) -> str:
        return _text(self.lang, key, **params)

    @property
    def discovery(self) -> str:
        return self.issuer + DISCOVERY_PATH


Rendered = tuple[dict[str, Any], list[str]]


def _nextcloud(c: Context, p: Preset) -> Rendered:
    occ = [
        "sudo -u www-data php occ user_oidc:provider kluis \\",
        f'    --clientid="{c.client_id}" --clientsecret="{c.secret}" \\',
        f'    --discoveryuri="{c.discovery}" \\',
        f'    --scope="{p.scope}" --postlogouturi="{c.post_logout_redirect_uri}" \\',
        "    --mapping-uid=sub --mapping-display-name=name --mapping-email=email \\",
        "    --send-id-token-hint=1",
        "sudo -u www-data php occ config:system:set user_oidc use_pkce --value=true --type=boolean",
    ]
    lines = [
        c.t("nextcloud.install"),
        *(f"  {line}" for line in occ),
        c.t("nextcloud.or"),
        c.t("nextcloud.identifier"),
    ]
    return {"occ": occ}, lines


def _discourse(c: Context, p: Preset) -> Rendered:
    settings = {
        "openid_connect_enabled": True,
        "openid_connect_discovery_document": c.discovery,
        "openid_connect_client_id": c.client_id,
        "openid_connect_client_secret": c.secret,
        "openid_connect_authorize_scope": p.scope,
        "openid_connect_rp_initiated_logout": True,
        "openid_connect_rp_initiated_logout_redirect": c.post_logout_redirect_uri,
        "openid_connect_allow_association_change": False,
        "openid_connect_use_pkce": True,
    }
    lines = [
        c.t("discourse.install"),
        *(f"  {k} = {json.dumps(v)}" for k, v in settings.items()),
        c.t("discourse.rails"),
    ]
    return {"site_settings": settings}, lines


def _omniauth(name: str, prefix: str, where: str = "") -> Callable[[Context, Preset], Rendered]:
    def render(c: Context, p: Preset) -> Rendered:
        options = {
            "name": name,
            "issuer": c.issuer,
            "discovery": True,
            "scope": p.scope.split(),
            "response_type": "code",
            "client_auth_method": "basic",
            "uid_field": "sub",
            "post_logout_redirect_uri": c.post_logout_redirect_uri,
            "client_options": {
                "identifier": c.client_id,
                "secret": c.secret,
                "redirect_uri": c.redirect_uri,
            },
        }
        lines = [
            c.t(where) if where else c.t("omniauth.register", name=name, prefix=prefix),
            *(f"  {line}" for line in json.dumps(options, indent=2).splitlines()),
            c.t("omniauth.pkce"),
        ]
        return {"omniauth": {"path_prefix": prefix, "options": options}}, lines

    return render


def _mastodon(c: Context, p: Preset) -> Rendered:
    env = {
        "OIDC_ENABLED": "true",
        "OIDC_DISPLAY_NAME": "Kluis",
        "OIDC_ISSUER": c.issuer,
        "OIDC_DISCOVERY": "true",
        "OIDC_SCOPE": ",".join(p.scope.split()),
        "OIDC_UID_FIELD": "sub",
        "OIDC_CLIENT_ID": c.client_id,
        "OIDC_CLIENT_SECRET": c.secret,
        "OIDC_REDIRECT_URI": c.redirect_uri,
        "OIDC_CLIENT_AUTH_METHOD": "basic",
        "OIDC_USE_PKCE": "true",
        "OIDC_IDP_LOGOUT_REDIRECT_URI": c.post_logout_redirect_uri,
        "OIDC_SECURITY_ASSUME_EMAIL_IS_VERIFIED": "false",
    }
    omniauth, _ = _omniauth("openid_connect", "/auth/auth")(c, p)
    lines = [
        c.t("mastodon.env"),
        *(f"  {k}={v}" for k, v in env.items()),
    ]
    return {"env": env, **omniauth}, lines


def _openstad(c: Context, p: Preset) -> Rendered:
    scope = p.scope.replace(" ", "%20")
    provider = {
        "adapter": "oidc",
        "serverUrl": c.issuer,
        "serverLoginPath": "/authorize?response_type=code&client_id=[[clientId]]"
        f"&redirect_uri=[[redirectUri]]&scope={scope}"
        "&code_challenge=[[codeChallenge]]&code_challenge_method=S256",
        "serverExchangeCodePath": "/token",
        "serverExchangeContentType": "application/x-www-form-urlencoded",
        "serverUserInfoPath": "/userinfo",
        "pkceEnabled": True,
        "clientId": c.client_id,
        "clientSecret": c.secret,
        "userMapping": {"identifier": "sub", "email": "email", "name": "name"},
    }
    lines = [
        c.t("openstad.provider"),
        *(f"  {line}" for line in json.dumps(provider, indent=2).splitlines()),
        c.t("openstad.pkce"),
    ]
    return {"auth_provider": provider}, lines


def _apache(c: Context, p: Preset) -> Rendered:
    location = c.base.removeprefix(c.origin) + "/"
    directives = [
        f"OIDCProviderMetadataURL {c.discovery}",
        f"OIDCClientID {c.client_id}",
        f"OIDCClientSecret {c.secret}",
        f"OIDCRedirectURI {c.redirect_uri}",
        f"OIDCCryptoPassphrase {secrets.token_urlsafe(32)}",
        f'OIDCScope "{p.scope}"',
        "OIDCPKCEMethod S256",
        "OIDCRemoteUserClaim sub",
        "OIDCPassClaimsAs headers",
        f"OIDCDefaultLoggedOutURL {c.post_logout_redirect_uri}",
    ]
    protect = [f"<Location {location}>", "  AuthType openid-connect", "  Require valid-user"]
    lines = [
        c.t("apache.vhost"),
        *(f"  {d}" for d in [*directives, *protect, "</Location>"]),
        c.t("apache.proxy", path=c.redirect_uri.removeprefix(c.origin)),
    ]
    if location == "/" and c.post_logout_redirect_uri == c.origin + "/":
        lines.append(c.t("apache.whole_site"))
    return {"directives": directives, "location": location}, lines


RENDERERS: dict[str, Callable[[Context, Preset], Rendered]] = {
    "nextcloud": _nextcloud,
    "discourse": _discourse,
    "decidim": _omniauth("openid_connect", "/users/auth", "decidim.where"),
    "consul": _omniauth("oidc", "/users/auth", "consul.where"),
    "openstad": _openstad,
    "mastodon": _mastodon,
    "apache": _apache,
}

CLAIM_MAPPING: dict[str, dict[str, str]] = {
    "nextcloud": {"User ID": "sub", "Display name": "name", "Email": "email"},
    "discourse": {"uid": "sub", "email": "email", "name": "name", "username": "preferred_username"},
    "openstad": {"identifier": "sub", "email": "email", "name": "name"},
    "apache": {"REMOTE_USER": "sub", "OIDC_CLAIM_email": "email", "OIDC_CLAIM_name": "name"},
}
OMNIAUTH_MAPPING = {
    "uid": "sub",
    "info.email": "email",
    "info.name": "name",
    "info.nickname": "preferred_username",
}


def platform_settings(
    preset: Preset,
    *,
    issuer: str,
    base_url: str,
    client: Mapping[str, Any],
    secret: str | None,
    lang: str = "en",
) -> dict[str, Any]:
    """The platform-side settings for a client created from `preset` (`describe` output),
    their prose in `lang` (the commands and settings themselves are never translated)."""
    base, origin = base_of(base_url)
    context = Context(
        issuer=issuer,
        base=base,
        origin=origin,
        client_id=client["client_id"],
        secret=secret or _text(lang, "not_shown"),
        redirect_uri=client["redirect_uris"][0],
        post_logout_redirect_uri=next(iter(client["post_logout_redirect_uris"]), ""),
        lang=lang,
    )
    settings, lines = RENDERERS[preset.name](context, preset)
    back_channel = context.t("back_channel") if client.get("backchannel_logout_uri") else ""
    erasure = context.t("by_hand") + back_channel
    return {
        "preset": preset.name,
        "platform": preset.platform,
        "plugin": preset.plugin,
        "base_url": base,
        "base_url_is": _text(lang, f"preset.{preset.name}.base_url_is"),
        "issuer": issuer,
        "discovery_url": context.discovery,
        "client_id": context.client_id,
        "client_secret": secret,
        "scope": preset.scope,
        "claim_mapping": CLAIM_MAPPING.get(preset.name, OMNIAUTH_MAPPING),
        **settings,
        "instructions": lines,
        "erasure": erasure,
        "notes": [_text(lang, f"preset.{preset.name}.notes.{i}") for i in range(len(preset.notes))],
    }


def instruction_steps(lines: list[str]) -> list[dict[str, str]]:
    """The instructions as a page shows them: each line of prose a paragraph, each run of
    indented lines (the commands, settings and directives) one block of code, dedented."""
    steps: list[dict[str, str]] = []
    for line in lines:
        code = line.startswith("  ")
        text = line[2:] if code else line
        if code and steps and steps[-1]["kind"] == "code":
            steps[-1]["text"] += "\n" + text
        else:
            steps.append({"kind": "code" if code else "text", "text": text})
    return steps


def render_text(settings: Mapping[str, Any]) -> str:
    mapping = ", ".join(f"{k} ← {v}" for k, v in settings["claim_mapping"].items())
    lines = [
        f"On the platform's side ({settings['platform']}, {settings['plugin']}):",
        f"  base URL        {settings['base_url']} (should be {settings['base_url_is']})",
        f"  discovery URL   {settings['discovery_url']}",
        f"  client ID       {settings['client_id']}",
        f"  client secret   {settings['client_secret'] or _text('en', 'not_shown')}",
        f"  scopes          {settings['scope']}",
        f"  claim mapping   {mapping}",
        "",
        *settings["instructions"],
        "",
        settings["erasure"],
        *(f"Note: {note}" for note in settings["notes"]),
    ]
    return "\n".join(lines)
