"""Kluis: attestations — SD-JWT VCs of the credential types in `types`, OpenID4VCI
pre-authorized issuance, and Token Status Lists for revocation.

Public API for other packages (erasure, peer vouching, verification sessions):
"""

from attestations.config import PRE_AUTH_GRANT, AttestationConfig
from attestations.errors import (
    CredentialRejected,
    CredentialRevoked,
    InvalidClaims,
    NotAKluisCredential,
    StatusUnavailable,
)
from attestations.issuance import (
    CreatedOffer,
    create_offer,
    exchange_pre_authorized_code,
    purge_expired,
)
from attestations.overview import (
    CredentialState,
    CredentialSummary,
    OfferState,
    OfferSummary,
    credentials_for_account,
    offers_for_account,
)
from attestations.statuslist import issued_credentials, revoke_all_credentials, revoke_credential
from attestations.types import TYPES, CredentialType, credential_type
from attestations.vc import VerifiedVc, issue_vc, verify_vc

__all__ = [
    "PRE_AUTH_GRANT",
    "TYPES",
    "AttestationConfig",
    "CreatedOffer",
    "CredentialRejected",
    "CredentialRevoked",
    "CredentialState",
    "CredentialSummary",
    "CredentialType",
    "InvalidClaims",
    "NotAKluisCredential",
    "OfferState",
    "OfferSummary",
    "StatusUnavailable",
    "VerifiedVc",
    "create_offer",
    "credential_type",
    "credentials_for_account",
    "exchange_pre_authorized_code",
    "issue_vc",
    "issued_credentials",
    "offers_for_account",
    "purge_expired",
    "revoke_all_credentials",
    "revoke_credential",
    "verify_vc",
]
