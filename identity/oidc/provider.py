"""The provider object: configuration and collaborators of the OpenID provider, built by the
composition root (`service`) and kept on `app.state.oidc`."""

from __future__ import annotations

import dataclasses

from fastapi import Request

from identity.accounts.sessions import ACR_ATTESTED, ACR_PASSWORD
from identity.oidc.claims import ClaimRegistry
from identity.oidc.grants import GrantRegistry
from identity.oidc.pairwise import SubjectIds
from keys import Keyring, SubjectKeys

SUPPORTED_ACRS = (ACR_PASSWORD, ACR_ATTESTED)  # weakest first: a later one satisfies an earlier


@dataclasses.dataclass(frozen=True)
class OidcConfig:
    issuer: str
    auth_code_ttl: int = 60
    access_token_ttl: int = 600
    id_token_ttl: int = 600
    refresh_token_ttl: int = 30 * 24 * 3600
    request_ttl: int = 1800  # how long a login/consent interaction may take
    # Longest accepted lifetime of a private_key_jwt client assertion. RFC 7523 sets none;
    # Authlib signs every assertion for 3600 s, so a stricter limit breaks mainstream clients.
    # Replay stays impossible: each jti is remembered until the assertion expires.
    assertion_max_age: int = 3600

    def url(self, path: str) -> str:
        return self.issuer + path

    @property
    def token_endpoint(self) -> str:
        return self.url("/token")


@dataclasses.dataclass
class Provider:
    config: OidcConfig
    keyring: Keyring
    subject_keys: SubjectKeys
    subject_ids: SubjectIds
    claims: ClaimRegistry
    # HMAC key of per-poll pseudonyms (`identity.oidc.pseudonyms.poll_pseudonym_key`); without
    # it the provider releases no `poll_pseudonym`
    poll_key: bytes = b""
    # the token endpoint's grants, by `grant_type` (`identity.oidc.grants`)
    grants: GrantRegistry = dataclasses.field(default_factory=GrantRegistry)


def provider_of(request: Request) -> Provider:
    """The provider kept on `app.state.oidc`, for every package's routers."""
    provider: Provider = request.app.state.oidc
    return provider
