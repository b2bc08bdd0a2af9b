"""Kluis: attestations — SD-JWT VCs of the credential types in `types`, OpenID4VCI
pre-authorized issuance, and Token Status Lists for revocation.

Public API for other packages (erasure, peer vouching, verification sessions):
"""

from attestations import models, vouching
from attestations.cli import attestations_cli
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
from attestations.letters import LettersConfig, forget_letters, letters_cli, letters_config
from attestations.letters import models as letters_models
from attestations.models import CredentialOffer, IssuedCredential
from attestations.municipality import MunicipalitySource
from attestations.overview import (
    CredentialState,
    CredentialSummary,
    OfferState,
    OfferSummary,
    credentials_for_account,
    offers_for_account,
)
from attestations.routers import OAUTH_PATHS, PROTOCOL_ROUTERS, ROUTERS
from attestations.statuslist import issued_credentials, revoke_all_credentials, revoke_credential
from attestations.types import TYPES, CredentialType, credential_type
from attestations.vc import VerifiedVc, issue_vc, verify_vc
from attestations.verifier import VerifierConfig
from attestations.verifier import models as verifier_models
from attestations.verifier.cli import verifier_cli
from attestations.verifier.wakeup import stop_listener
from attestations.verifier.x509 import X509ConfigError, request_signer
from attestations.vouching import models as vouching_models
from attestations.wallet import (
    ATTESTED_CLAIMS,
    attested_claims,
    discard_held,
    held_credentials,
)
from attestations.wallet import (
    models as wallet_models,
)
from attestations.wallet.cli import wallet_cli
from attestations.web import municipality_of

__all__ = [
    "ATTESTED_CLAIMS",
    "OAUTH_PATHS",
    "PRE_AUTH_GRANT",
    "PROTOCOL_ROUTERS",
    "ROUTERS",
    "TYPES",
    "AttestationConfig",
    "CreatedOffer",
    "CredentialOffer",
    "CredentialRejected",
    "CredentialRevoked",
    "CredentialState",
    "CredentialSummary",
    "CredentialType",
    "InvalidClaims",
    "IssuedCredential",
    "LettersConfig",
    "MunicipalitySource",
    "NotAKluisCredential",
    "OfferState",
    "OfferSummary",
    "StatusUnavailable",
    "VerifiedVc",
    "VerifierConfig",
    "X509ConfigError",
    "attestations_cli",
    "attested_claims",
    "create_offer",
    "credential_type",
    "credentials_for_account",
    "discard_held",
    "exchange_pre_authorized_code",
    "forget_letters",
    "held_credentials",
    "issue_vc",
    "issued_credentials",
    "letters_cli",
    "letters_config",
    "letters_models",
    "models",
    "municipality_of",
    "offers_for_account",
    "purge_expired",
    "request_signer",
    "revoke_all_credentials",
    "revoke_credential",
    "stop_listener",
    "verifier_cli",
    "verifier_models",
    "verify_vc",
    "vouching",
    "vouching_models",
    "wallet_cli",
    "wallet_models",
]
