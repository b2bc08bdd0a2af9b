"""The composition root's wiring: settings → database, keyring, subject keys, and the
configs of the attestation issuer and the verifier, each built once here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import ssl
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import SecretStr
from sqlalchemy.orm import Session

from adapters import (
    ApiKey,
    AssertionKey,
    AssertionKeyError,
    ClientCertificate,
    ClientCredentials,
    DevelopmentRegistry,
    DevelopmentUpstream,
    FileOutbox,
    HttpFetcher,
    HttpRegistry,
    Mailer,
    OidcUpstream,
    Outbox,
    SmtpMailer,
    TlsConfigError,
    UpstreamConfig,
    client_tls,
    parse_person,
)
from attestations import (
    ATTESTED_CLAIMS,
    PRE_AUTH_GRANT,
    AttestationConfig,
    LettersConfig,
    MunicipalitySource,
    VerifierConfig,
    attested_claims,
    exchange_pre_authorized_code,
    letters_config,
    vouching,
)
from audit import AuditLog, checkpoint_signer
from core import Database
from identity import (
    CLIENT_GRANTS,
    PERSON_KEY_PURPOSE,
    Accounts,
    ClaimRegistry,
    Client,
    GrantRegistry,
    GrantType,
    OidcConfig,
    Provider,
    SubjectIds,
    account_claims,
    end_session,
    poll_pseudonym_key,
    read_account,
    render_logout_token,
)
from identity import DELIVERY_KIND as BACKCHANNEL_LOGOUT
from keys import KeyEncryption, Keyring, SubjectKeys, derive_key
from rights import DELIVERY_KIND as SECURITY_EVENT
from rights import TombstoneJournal, render_security_event
from service.settings import Settings, SettingsError

log = logging.getLogger("kluis.runtime")


@dataclasses.dataclass
class Runtime:
    settings: Settings
    db: Database
    keyring: Keyring
    subject_keys: SubjectKeys
    oidc: Provider
    outbox: Outbox
    audit: AuditLog
    mailer: Mailer
    accounts: Accounts
    tombstones: TombstoneJournal
    attestations: AttestationConfig
    verifier: VerifierConfig
    letters: LettersConfig
    vouching: vouching.VouchingConfig
    municipality: MunicipalitySource | None = None


def build_mailer(settings: Settings) -> Mailer:
    """SMTP when a relay is configured, else the development file outbox."""
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            username=settings.smtp_username,
            password=password,
            starttls=settings.smtp_starttls,
        )
    if settings.production:
        log.error("KLUIS_SMTP_HOST is not set: mail is written to files and NOT delivered")
    assert settings.mail_outbox_dir is not None  # filled in by Settings
    return FileOutbox(settings.mail_outbox_dir, settings.mail_from)


def build_grants(attestations: AttestationConfig) -> GrantRegistry:
    """The token endpoint's grants: the provider's own, and OpenID4VCI's pre-authorized code
    grant, which wallets redeem without client authentication (OpenID4VCI 1.0 §6)."""

    def pre_authorized(
        session: Session, provider: Provider, client: Client | None, form: Mapping[str, str]
    ) -> dict[str, Any]:
        return exchange_pre_authorized_code(session, attestations, form)

    return GrantRegistry(*CLIENT_GRANTS, GrantType(PRE_AUTH_GRANT, pre_authorized, anonymous=True))


def build_provider(
    settings: Settings,
    keyring: Keyring,
    subject_keys: SubjectKeys,
    attestations: AttestationConfig | None = None,
) -> Provider:
    config = OidcConfig(
        issuer=settings.issuer,
        auth_code_ttl=settings.auth_code_ttl,
        access_token_ttl=settings.access_token_ttl,
        id_token_ttl=settings.id_token_ttl,
        refresh_token_ttl=settings.refresh_token_ttl,
    )
    registry = ClaimRegistry()

    def account_source(session: Session, account_id: str) -> Mapping[str, Any]:
        account = read_account(session, account_id)
        return account_claims(session, subject_keys, account) if account else {}

    registry.register_source(
        ("email", "email_verified", "name", "preferred_username"), account_source
    )

    def wallet_source(session: Session, account_id: str) -> Mapping[str, Any]:
        return attested_claims(session, subject_keys, account_id)

    registry.register_source(ATTESTED_CLAIMS, wallet_source)
    pairwise_key = derive_key(settings.secret_bytes, "kluis/oidc/pairwise-subject")
    poll_key = poll_pseudonym_key(settings.secret_bytes)  # shared with the verifier
    grants = build_grants(attestations or AttestationConfig(settings.issuer))
    return Provider(
        config, keyring, subject_keys, SubjectIds(pairwise_key), registry, poll_key, grants
    )


def build_verifier_config(settings: Settings) -> VerifierConfig:
    key_file, chain_file = settings.verifier_x509_key_file, settings.verifier_x509_chain_file
    return VerifierConfig(
        settings.issuer,
        session_ttl=dt.timedelta(seconds=settings.verifier_session_ttl),
        result_ttl=dt.timedelta(seconds=settings.verifier_result_ttl),
        pseudonym_key=poll_pseudonym_key(settings.secret_bytes),
        widget_key=derive_key(settings.secret_bytes, "kluis/verifier/widget-token"),
        x509_files=(key_file, chain_file) if key_file and chain_file else None,
        fetcher=HttpFetcher(allow_http=not settings.production),
    )


def build_municipality(settings: Settings) -> MunicipalitySource | None:
    """The DigiD broker and the registry, when configured (both or neither: `load_settings`
    checks), or their development stand-ins when KLUIS_MUNICIPALITY_DEVELOPMENT is set."""
    person_key = derive_key(settings.secret_bytes, PERSON_KEY_PURPOSE)
    callback = settings.issuer + "/account/municipality/callback"
    dev = not settings.production
    if settings.municipality_development and not settings.upstream_issuer:
        record, _ = parse_person(DEVELOPMENT_PERSON)
        return MunicipalitySource(
            upstream=DevelopmentUpstream(callback, settings.municipality_test_bsn),
            registry=DevelopmentRegistry({settings.municipality_test_bsn: record}),
            person_key=person_key,
        )
    if not settings.upstream_issuer:
        return None
    secret = settings.upstream_client_secret
    upstream = OidcUpstream(
        UpstreamConfig(
            issuer=settings.upstream_issuer,
            client_id=settings.upstream_client_id,
            client_secret=secret.get_secret_value() if secret else "",
            redirect_uri=callback,
            scopes=tuple(settings.upstream_scopes.split()),
            bsn_claim=settings.upstream_bsn_claim,
            bsn_source=settings.upstream_bsn_source,
            bsn_sector_code=settings.upstream_bsn_sector_code or None,
            acr_values=tuple(settings.upstream_acr_values.split()),
            accepted_acr=tuple(settings.upstream_accepted_acr.split()),
            timeout_s=settings.upstream_timeout,
            allow_http=dev,
            client_auth=settings.upstream_client_auth,
            assertion_key=assertion_key(settings),
            assertion_audience=settings.upstream_assertion_audience,
            tls=_tls(settings, "upstream", "the DigiD broker"),
        )
    )
    registry = HttpRegistry(
        settings.brp_url,
        _registry_credentials(settings),
        timeout=settings.brp_timeout,
        retries=settings.brp_retries,
        max_wait=settings.brp_max_wait,
        municipality=settings.brp_municipality or None,
        allow_http=dev,
        tls=_tls(settings, "brp", "the registry"),
    )
    return MunicipalitySource(upstream=upstream, registry=registry, person_key=person_key)


def _tls(settings: Settings, side: str, what: str) -> ssl.SSLContext | None:
    """The TLS context of the registry (`side` "brp") or the broker ("upstream") when a client
    certificate or a CA bundle is configured; a file that cannot serve stops the start."""
    cert, key, ca = (
        getattr(settings, f"{side}_{name}_file") for name in ("tls_cert", "tls_key", "ca")
    )
    if cert is None and ca is None:
        return None
    client = ClientCertificate(cert, key) if cert is not None else None
    try:
        return client_tls(client, ca, what=what)
    except TlsConfigError as exc:
        prefix = f"KLUIS_{side.upper()}_TLS_CERT_FILE/_KEY_FILE/KLUIS_{side.upper()}_CA_FILE"
        raise SettingsError(f"{prefix}: {exc}") from exc


def assertion_key(settings: Settings) -> AssertionKey | None:
    """Kluis's private_key_jwt key at the DigiD broker, if that is how it authenticates there."""
    path = settings.upstream_assertion_key_file
    if settings.upstream_client_auth != "private_key_jwt" or path is None:
        return None
    try:
        return AssertionKey.from_pem_file(path, settings.upstream_assertion_key_id)
    except AssertionKeyError as exc:
        raise SettingsError(f"KLUIS_UPSTREAM_ASSERTION_KEY_FILE: {exc}") from exc


def _registry_credentials(settings: Settings) -> ApiKey | ClientCredentials:
    def secret(value: SecretStr | None) -> str:
        return value.get_secret_value() if value is not None else ""

    if settings.brp_auth == "api-key":
        return ApiKey(secret(settings.brp_api_key), settings.brp_api_key_header)
    return ClientCredentials(
        settings.brp_token_url,
        settings.brp_client_id,
        secret(settings.brp_client_secret),
        settings.brp_scope,
        allow_http=not settings.production,
    )


# The development registry's one resident (KLUIS_MUNICIPALITY_DEVELOPMENT): a `Persoon` as the
# BRP answers it, living in Amsterdam, born in 1990 (only the year known, as for some residents).
DEVELOPMENT_PERSON = {
    "verblijfplaats": {"type": "Adres", "verblijfadres": {"postcode": "1087AB"}},
    "gemeenteVanInschrijving": {"code": "0363", "omschrijving": "Amsterdam"},
    "geboorte": {"datum": {"type": "JaarDatum", "jaar": 1990, "langFormaat": "1990"}},
}


def _oidc_session_end(provider: Provider) -> Callable[[Session, str, str], None]:
    """When a session ends outside the provider's own logout, still revoke its grants and
    tell the platforms (back-channel logout)."""

    def hook(session: Session, sid: str, account_id: str) -> None:
        end_session(session, provider, sid, provider.subject_keys.reference(session, account_id))

    return hook


def build_runtime(settings: Settings, db: Database | None = None) -> Runtime:
    secret = settings.secret_bytes
    database = db or Database.from_url(settings.database_url)
    key_encryption = KeyEncryption(
        settings.key_encryption_bytes, settings.previous_key_encryption_bytes, root=secret
    )
    keyring = Keyring(key_encryption, retention=dt.timedelta(days=settings.key_retention_days))
    subject_keys = SubjectKeys(key_encryption)
    attestations = AttestationConfig(settings.issuer)
    provider = build_provider(settings, keyring, subject_keys, attestations)
    outbox = Outbox(database, {BACKCHANNEL_LOGOUT: render_logout_token(provider)})
    outbox.renderers[SECURITY_EVENT] = render_security_event(keyring)
    mailer = build_mailer(settings)
    return Runtime(
        settings=settings,
        db=database,
        keyring=keyring,
        subject_keys=subject_keys,
        oidc=provider,
        outbox=outbox,
        audit=AuditLog(checkpoint_signer(secret, settings.issuer)),
        mailer=mailer,
        accounts=dataclasses.replace(
            Accounts.from_settings(settings, subject_keys, mailer),
            session_end_hooks=(_oidc_session_end(provider),),
        ),
        tombstones=TombstoneJournal(
            settings.tombstone_journal or settings.data_dir / "tombstones.jsonl"
        ),
        attestations=attestations,
        verifier=build_verifier_config(settings),
        municipality=build_municipality(settings),
        letters=letters_config(settings, attestations),
        vouching=vouching.vouching_config(settings, attestations),
    )
