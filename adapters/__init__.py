"""Kluis: adapters — the outside world behind small protocols: the municipal registry (Haal
Centraal BRP), the municipality's identity broker (upstream OpenID Connect), mail, remote
fetches, and the outbox of platform notifications."""

from adapters import outbox
from adapters.brp import (
    DevelopmentRegistry,
    HttpRegistry,
    InvalidBsn,
    NotInRegistry,
    Registry,
    RegistryAccessDenied,
    RegistryBadResponse,
    RegistryError,
    RegistryRejectedRequest,
    RegistryUnavailable,
    valid_bsn,
)
from adapters.brp_auth import ApiKey, ClientCredentials
from adapters.brp_claims import (
    RegistryRecord,
    birth_bounds,
    home_address,
    parse_person,
    postcode_claims,
)
from adapters.fetch import Fetcher, FetchError, HttpFetcher
from adapters.mail import FileOutbox, ForgetsRecipients, Mailer, SmtpMailer
from adapters.outbox import Delivery, Outbox, Renderer, enqueue
from adapters.outbox_health import PlatformDeliveries, outbox_health
from adapters.tls import ClientCertificate, TlsConfigError, client_tls
from adapters.upstream_oidc import (
    OidcUpstream,
    PendingLogin,
    UpstreamConfig,
    UpstreamIdentity,
    UpstreamLogin,
)
from adapters.upstream_oidc_client_auth import AssertionKey, AssertionKeyError
from adapters.upstream_oidc_development import DevelopmentUpstream
from adapters.upstream_oidc_tokens import LoginCancelled, LoginExpired, UpstreamLoginError

__all__ = [
    "ApiKey",
    "AssertionKey",
    "AssertionKeyError",
    "ClientCertificate",
    "ClientCredentials",
    "Delivery",
    "DevelopmentRegistry",
    "DevelopmentUpstream",
    "FetchError",
    "Fetcher",
    "FileOutbox",
    "ForgetsRecipients",
    "HttpFetcher",
    "HttpRegistry",
    "InvalidBsn",
    "LoginCancelled",
    "LoginExpired",
    "Mailer",
    "NotInRegistry",
    "OidcUpstream",
    "Outbox",
    "PendingLogin",
    "PlatformDeliveries",
    "Registry",
    "RegistryAccessDenied",
    "RegistryBadResponse",
    "RegistryError",
    "RegistryRecord",
    "RegistryRejectedRequest",
    "RegistryUnavailable",
    "Renderer",
    "SmtpMailer",
    "TlsConfigError",
    "UpstreamConfig",
    "UpstreamIdentity",
    "UpstreamLogin",
    "UpstreamLoginError",
    "birth_bounds",
    "client_tls",
    "enqueue",
    "home_address",
    "outbox",
    "outbox_health",
    "parse_person",
    "postcode_claims",
    "valid_bsn",
]
