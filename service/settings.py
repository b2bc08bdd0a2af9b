"""Configuration: one pydantic-settings class, environment prefix `KLUIS_`.

In development a missing secret is generated into the data directory (loudly); in production
a missing or placeholder secret, or a non-https issuer, refuses to start with a clear message.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger("kluis.settings")

MIN_SECRET_LENGTH = 32
PLACEHOLDER_MARKERS = ("change", "placeholder", "example", "secret", "xxxx", "todo")
SECRET_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)


class SettingsError(Exception):
    """The configuration cannot be used; the message says what to do."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KLUIS_", extra="ignore")

    mode: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    issuer: str = Field(default="", description="Public base URL; default http://HOST:PORT")
    data_dir: Path = Path("var")
    database_url: str = Field(default="", description="Default: SQLite in the data dir")
    secret_key: SecretStr | None = Field(
        default=None, description="Root secret of stable identifiers (never rotated)"
    )
    # Wraps the stored signing keys and residents' data keys; rotatable (`kluis secret
    # rotate`). Unset: the wrap keys derive from `secret_key`, as they always did.
    key_encryption_secret: SecretStr | None = None
    # Comma-separated key-encryption secrets still accepted for unwrapping during a rotation.
    previous_key_encryption_secrets: SecretStr | None = None
    log_level: str = "INFO"
    key_retention_days: int = Field(
        default=400, ge=1, description="How long a retired signing key stays published"
    )

    # Mail (verification links, password resets). Without an SMTP host, mail is written to
    # the outbox directory as .eml files (development and tests).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    mail_from: str = "Kluis <noreply@localhost>"
    mail_outbox_dir: Path | None = Field(default=None, description="Default: DATA_DIR/outbox")
    # The append-only record of erasures (opaque ids only) that `kluis restore` re-applies to
    # a restored backup. Keep it on other storage than the database and its backups.
    tombstone_journal: Path | None = Field(
        default=None, description="Default: DATA_DIR/tombstones.jsonl"
    )

    # Lifetimes (seconds) and limits of the OpenID provider.
    session_ttl: int = Field(default=8 * 3600, ge=60)
    auth_code_ttl: int = Field(default=60, ge=5, le=600)
    access_token_ttl: int = Field(default=600, ge=30)
    id_token_ttl: int = Field(default=600, ge=30)
    refresh_token_ttl: int = Field(default=30 * 24 * 3600, ge=300)
    login_max_failures: int = Field(default=5, ge=1, description="per account and window")
    login_max_failures_per_ip: int = Field(default=20, ge=1, description="per IP and window")
    login_failure_window: int = Field(default=900, ge=60, description="seconds")
    wallet_login_max_starts_per_ip: int = Field(default=30, ge=1, description="per IP, window")
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: comma-separated
    # addresses or networks (e.g. "127.0.0.1" or "10.0.0.0/8"). Empty (the default): none, so
    # the client address the limits count is the peer's, whatever headers a client sends.
    trusted_proxies: str = ""

    # The outbox worker pushes back-channel logout tokens and security events to platforms.
    outbox_worker: bool = True
    outbox_interval: float = Field(default=2.0, gt=0, description="seconds between rounds")
    audit_checkpoint_interval: float = Field(
        default=300.0, gt=0, description="seconds between automatic audit checkpoints"
    )

    # Verification sessions (OpenID4VP): how long a QR code stays valid, and how long the
    # platform can read the verified result before it is erased.
    verifier_session_ttl: int = Field(default=300, ge=5, le=3600, description="seconds")
    verifier_result_ttl: int = Field(default=120, ge=10, le=3600, description="seconds")
    # with PostgreSQL LISTEN/NOTIFY, waiting clients still re-read this often (seconds)
    verifier_fallback_poll: float = Field(default=5.0, gt=0, le=300)
    # PEM files of the verifier's X.509 identity (OpenID4VP `x509_san_dns:`): both or neither
    verifier_x509_key_file: Path | None = None
    verifier_x509_chain_file: Path | None = None

    # Attestations from the municipality (docs/operators.md, "Attestations from the
    # municipality"): the registry, Haal Centraal BRP Personen Bevragen 2.x (base URL up to
    # /personen) ...
    brp_url: str = ""
    brp_auth: Literal["api-key", "client-credentials"] = "api-key"
    brp_api_key: SecretStr | None = None
    brp_api_key_header: str = "X-API-KEY"
    brp_token_url: str = ""
    brp_client_id: str = ""
    brp_client_secret: SecretStr | None = None
    brp_scope: str = ""
    brp_timeout: float = Field(default=10.0, gt=0, le=60, description="seconds per request")
    brp_retries: int = Field(default=2, ge=0, le=5, description="after a 429 or 503")
    brp_max_wait: float = Field(default=10.0, gt=0, le=60, description="seconds, per wait")
    brp_municipality: str = Field(default="", description="gemeentecode the registry serves")
    # mutual TLS (PEM files): the PKIoverheid client certificate chain and its key, both or
    # neither; the CA bundle the registry's certificate is checked against (default: system)
    brp_tls_cert_file: Path | None = None
    brp_tls_key_file: Path | None = None
    brp_ca_file: Path | None = None
    # ... and the identity broker residents log in at with DigiD (OpenID Connect); Kluis's
    # redirect URI there is ISSUER/account/municipality/callback
    upstream_issuer: str = ""
    upstream_client_id: str = ""
    upstream_client_secret: SecretStr | None = None
    # how Kluis's client authenticates at the broker's token endpoint; private_key_jwt signs
    # with the PEM key file (kid: its RFC 7638 thumbprint unless set), tls_client_auth presents
    # the TLS client certificate (which is presented whenever it is set)
    upstream_client_auth: Literal["client_secret_basic", "private_key_jwt", "tls_client_auth"] = (
        "client_secret_basic"
    )
    upstream_assertion_key_file: Path | None = None
    upstream_assertion_key_id: str = ""
    upstream_assertion_audience: Literal["issuer", "token_endpoint"] = "issuer"
    upstream_tls_cert_file: Path | None = None
    upstream_tls_key_file: Path | None = None
    upstream_ca_file: Path | None = None
    upstream_scopes: str = "openid"
    upstream_bsn_claim: str = "bsn"
    upstream_bsn_source: Literal["id_token", "userinfo"] = "id_token"
    upstream_bsn_sector_code: str = ""
    upstream_acr_values: str = ""
    upstream_accepted_acr: str = ""
    upstream_timeout: float = Field(default=10.0, gt=0, le=60)
    # development only: stand-ins for both (every login yields this test BSN, whose record
    # the development registry holds), announced loudly; refused in production
    municipality_development: bool = False
    municipality_test_bsn: str = "999993653"

    # Peer vouching (docs/operators.md, "Peer vouching"): confirmations from distinct, independent
    # vouchers within the window make a resident a real person for the validity
    vouching_threshold: int = Field(default=2, ge=1, le=10)
    vouching_window_days: int = Field(default=90, ge=1, le=3650)
    vouching_voucher_min_age_days: int = Field(default=30, ge=0, le=3650)
    vouching_quota: int = Field(default=3, ge=0, le=100, description="per voucher and period")
    vouching_quota_period_days: int = Field(default=30, ge=1, le=3650)
    vouching_suspension_days: int = Field(default=120, ge=0, le=3650)
    vouching_validity_days: int = Field(default=365, ge=1, le=365)
    # the background worker re-judges every peer attestation this often (`kluis vouching settle`)
    vouching_settle_interval: float = Field(
        default=3600.0, gt=0, description="seconds between periodic settles of the vouching graph"
    )

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.issuer:
            self.issuer = f"http://{self.host}:{self.port}"
        self.issuer = self.issuer.rstrip("/")
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'kluis.sqlite3'}"
        if self.mail_outbox_dir is None:
            self.mail_outbox_dir = self.data_dir / "outbox"
        if self.tombstone_journal is None:
            self.tombstone_journal = self.data_dir / "tombstones.jsonl"
        return self

    @property
    def trusted_proxy_list(self) -> list[str]:
        """`trusted_proxies` as a list; each entry an IP address or network."""
        entries = [e.strip() for e in self.trusted_proxies.split(",") if e.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise SettingsError(
                    f"KLUIS_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                    "(a comma-separated list such as 127.0.0.1,10.0.0.0/8; '*' is not accepted)."
                ) from None
        return entries

    @property
    def production(self) -> bool:
        return self.mode == "production"

    @property
    def secret_bytes(self) -> bytes:
        if self.secret_key is None:
            raise SettingsError("no secret key loaded; call load_settings()")
        return self.secret_key.get_secret_value().encode("utf-8")

    @property
    def key_encryption_bytes(self) -> bytes:
        """The current key-encryption secret: the separate one if set, else the root."""
        value = self.key_encryption_secret.get_secret_value() if self.key_encryption_secret else ""
        return value.encode("utf-8") if value else self.secret_bytes

    @property
    def previous_key_encryption_bytes(self) -> tuple[bytes, ...]:
        raw = self.previous_key_encryption_secrets
        values = raw.get_secret_value().split(",") if raw else []
        return tuple(v.strip().encode("utf-8") for v in values if v.strip())


def _check_key_encryption_secrets(settings: Settings) -> None:
    """The key-encryption secrets are separate from the root and from each other (names only
    in messages, never values)."""
    root, current = settings.secret_bytes, settings.key_encryption_bytes
    previous = settings.previous_key_encryption_bytes
    if settings.key_encryption_secret and current == root:
        raise SettingsError(
            "KLUIS_KEY_ENCRYPTION_SECRET equals KLUIS_SECRET_KEY; generate a separate one with "
            "`openssl rand -base64 48` (or leave it unset)."
        )
    if current in previous:
        raise SettingsError(
            "KLUIS_PREVIOUS_KEY_ENCRYPTION_SECRETS contains the current key-encryption secret; "
            "list only the secrets being rotated away from."
        )
    if settings.key_encryption_secret and root in previous:
        raise SettingsError(
            "KLUIS_PREVIOUS_KEY_ENCRYPTION_SECRETS contains KLUIS_SECRET_KEY, which is always "
            "accepted for the keys wrapped under it; remove it from the list."
        )
    if settings.production:
        named = [("KLUIS_KEY_ENCRYPTION_SECRET", current)] if settings.key_encryption_secret else []
        named += [("KLUIS_PREVIOUS_KEY_ENCRYPTION_SECRETS", p) for p in previous]
        for name, value in named:
            if looks_like_placeholder(value.decode("utf-8")):
                raise SettingsError(
                    f"{name} holds a value that looks like a placeholder or is shorter than "
                    f"{MIN_SECRET_LENGTH} characters; generate one with `openssl rand -base64 48`."
                )


def _check_municipality(settings: Settings) -> None:
    """Both halves of the municipality source or neither, each complete (names only)."""
    if settings.municipality_development and settings.production:
        raise SettingsError("KLUIS_MUNICIPALITY_DEVELOPMENT is for development only.")
    registry, broker = bool(settings.brp_url), bool(settings.upstream_issuer)
    if registry != broker:
        raise SettingsError(
            "Set KLUIS_BRP_URL and KLUIS_UPSTREAM_ISSUER together: residents log in at the "
            "broker (DigiD) so that Kluis may ask the registry (BRP) about them."
        )
    if not registry:
        return
    for side in ("BRP", "UPSTREAM"):
        cert, key = (
            getattr(settings, f"{side.lower()}_tls_{part}_file") for part in ("cert", "key")
        )
        if (cert is None) != (key is None):
            raise SettingsError(
                f"Set both KLUIS_{side}_TLS_CERT_FILE and KLUIS_{side}_TLS_KEY_FILE, or neither."
            )
    auth = settings.upstream_client_auth
    missing = [
        name
        for name, value in (
            ("KLUIS_UPSTREAM_CLIENT_ID", settings.upstream_client_id),
            *(
                [("KLUIS_UPSTREAM_CLIENT_SECRET", settings.upstream_client_secret)]
                if auth == "client_secret_basic"
                else [("KLUIS_UPSTREAM_ASSERTION_KEY_FILE", settings.upstream_assertion_key_file)]
                if auth == "private_key_jwt"
                else [("KLUIS_UPSTREAM_TLS_CERT_FILE", settings.upstream_tls_cert_file)]
            ),
            *(
                [("KLUIS_BRP_API_KEY", settings.brp_api_key)]
                if settings.brp_auth == "api-key"
                else [
                    ("KLUIS_BRP_TOKEN_URL", settings.brp_token_url),
                    ("KLUIS_BRP_CLIENT_ID", settings.brp_client_id),
                    ("KLUIS_BRP_CLIENT_SECRET", settings.brp_client_secret),
                ]
            ),
        )
        if not value
    ]
    if missing:
        raise SettingsError(f"The municipality source needs {', '.join(missing)}.")


def looks_like_placeholder(value: str) -> bool:
    lowered = value.lower()
    return len(value) < MIN_SECRET_LENGTH or any(m in lowered for m in PLACEHOLDER_MARKERS)


def _development_secret(data_dir: Path) -> str:
    path = data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    log.warning(
        "development secret generated",
        extra={"path": str(path), "hint": "set KLUIS_SECRET_KEY and KLUIS_MODE=production"},
    )
    return value


def load_settings(**overrides: object) -> Settings:
    """Read the environment, apply the production checks, provision development secrets."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    settings.trusted_proxy_list  # noqa: B018 (refuses a malformed list at start)
    if (settings.verifier_x509_key_file is None) != (settings.verifier_x509_chain_file is None):
        raise SettingsError(
            "Set both KLUIS_VERIFIER_X509_KEY_FILE and KLUIS_VERIFIER_X509_CHAIN_FILE, or neither."
        )
    _check_municipality(settings)
    if settings.production:
        secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
        if not secret:
            raise SettingsError(
                "KLUIS_SECRET_KEY is not set. In production Kluis needs a key-encryption "
                "secret of at least 32 random characters, e.g. from `openssl rand -base64 48`."
            )
        if looks_like_placeholder(secret):
            raise SettingsError(
                "KLUIS_SECRET_KEY looks like a placeholder or is shorter than "
                f"{MIN_SECRET_LENGTH} characters; generate one with `openssl rand -base64 48`."
            )
        if not settings.issuer.startswith("https://"):
            raise SettingsError("KLUIS_ISSUER must be an https:// URL in production.")
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.secret_key is None:
            settings.secret_key = SecretStr(_development_secret(settings.data_dir))
    _check_key_encryption_secrets(settings)
    return settings
