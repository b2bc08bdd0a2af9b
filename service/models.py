"""Every package's tables, imported so `Base.metadata` is complete for Alembic."""

from adapters import outbox as outbox_models
from attestations import models as attestations_models
from attestations.verifier import models as verifier_models
from attestations.wallet import models as wallet_models
from consent import models as consent_models
from core.db import Base
from identity.accounts import models as accounts_models
from identity.oidc import models as oidc_models
from keys import models as keys_models

__all__ = [
    "Base",
    "accounts_models",
    "attestations_models",
    "consent_models",
    "keys_models",
    "oidc_models",
    "outbox_models",
    "verifier_models",
    "wallet_models",
]
