"""Apache httpd with mod_auth_openidc (Debian's apache2 and libapache2-mod-auth-openidc) as a
relying party of a live Kluis: a generated configuration in a temporary directory (its own
ServerRoot, port, PidFile and logs), run in the foreground as one process (`apache2 -X`).

It protects /app/ and reverse-proxies it to the application behind (tests/support/platforms.
HeaderEcho), which receives the consented claims as OIDC_CLAIM_* request headers. The module's
redirect URI sits inside the protected location (it must); the same URI with
`?logout=backchannel` is the back-channel logout endpoint registered at Kluis, `?info=json` is
the module's info hook and `?logout=URL` its RP-initiated logout."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.platforms import foreground, require_file, require_program
from tests.support.server import free_port

APT_PACKAGES = "apache2 libapache2-mod-auth-openidc"
APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
LOADED = (
    "mpm_prefork",
    "authn_core",
    "authz_core",
    "authz_user",
    "headers",
    "proxy",
    "proxy_http",
    "auth_openidc",
)


@dataclass(frozen=True)
class ApacheSite:
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def app(self) -> str:
        return f"{self.base}/app/"

    @property
    def redirect_uri(self) -> str:
        return f"{self.base}/app/redirect_uri"

    @property
    def backchannel_logout_uri(self) -> str:
        return f"{self.redirect_uri}?logout=backchannel"

    @property
    def logged_out(self) -> str:
        # the apache preset's post-logout redirect URI: the site's root, outside /app/
        return f"{self.base}/"


def new_site() -> ApacheSite:
    """The addresses of the site, known before it starts so the client can be registered."""
    return ApacheSite(free_port())


def oidc_directives(printed: list[str]) -> list[str]:
    """The mod_auth_openidc directives `kluis clients add --preset apache` printed (see
    docs/platforms/apache.md), and the info hook the test reads the module's tokens with."""
    return [
        *printed,
        "OIDCInfoHook iat access_token access_token_expires id_token userinfo refresh_token",
    ]


def configuration(
    site: ApacheSite, root: Path, backend: str, directives: list[str], *, as_root: bool
) -> str:
    lines = [
        f'ServerRoot "{root}"',
        f'DefaultRuntimeDir "{root}/run"',
        f'PidFile "{root}/run/apache2.pid"',
        f"Listen 127.0.0.1:{site.port}",
        "ServerName 127.0.0.1",
        # One process (-X) serves one connection at a time: a kept-alive browser connection
        # would make Kluis's back-channel call wait.
        "KeepAlive Off",
        *(f"LoadModule {m}_module {MODULES}/mod_{m}.so" for m in LOADED),
        # As root, Apache must drop to an unprivileged user to serve requests.
        *(["User nobody", "Group nogroup"] if as_root else []),
        f'ErrorLog "{root}/logs/error.log"',
        "LogLevel warn auth_openidc:info",
        *directives,
        "ProxyPass /app/redirect_uri !",
        f"ProxyPass / {backend}/",
        "<Location /app/>",
        "  AuthType openid-connect",
        "  Require valid-user",
        "</Location>",
    ]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def run_apache(site: ApacheSite, root: Path, backend: str, directives: list[str]) -> Iterator[Path]:
    """Apache in the foreground on `site.port`; yields its error log."""
    require_program(APACHE, APT_PACKAGES)
    require_file(f"{MODULES}/mod_auth_openidc.so", APT_PACKAGES)
    for sub in ("run", "logs"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    conf = root / "apache2.conf"
    conf.write_text(configuration(site, root, backend, directives, as_root=os.geteuid() == 0))
    with foreground(
        [APACHE, "-X", "-f", str(conf)],
        port=site.port,
        log=root / "logs" / "stdout.log",
        what="apache2",
    ):
        yield root / "logs" / "error.log"
