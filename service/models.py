"""Every package's tables, imported so `Base.metadata` is complete for Alembic."""

from adapters import outbox as outbox_models
from attestations import letters_models, verifier_models, vouching_models, wallet_models
from attestations import models as attestations_models
from audit import models as audit_models
from consent import models as consent_models
from core import Base
from identity import accounts_models, oidc_models
from keys import models as keys_models
from rights import models as rights_models
from service import lease as service_models

__all__ = [
    "Base",
    "accounts_models",
    "attestations_models",
    "audit_models",
    "consent_models",
    "keys_models",
    "letters_models",
    "oidc_models",
    "outbox_models",
    "rights_models",
    "service_models",
    "verifier_models",
    "vouching_models",
    "wallet_models",
]
