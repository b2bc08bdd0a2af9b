"""Every package's tables, imported so `Base.metadata` is complete for Alembic."""

from consent import models as consent_models
from core.db import Base
from keys import models as keys_models

__all__ = ["Base", "consent_models", "keys_models"]
