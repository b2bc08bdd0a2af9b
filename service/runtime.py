"""The composition root's wiring: settings → database, keyring, subject keys."""

from __future__ import annotations

import dataclasses
import datetime as dt

from core.db import Database
from keys import Keyring, SubjectKeys
from service.settings import Settings


@dataclasses.dataclass
class Runtime:
    settings: Settings
    db: Database
    keyring: Keyring
    subject_keys: SubjectKeys


def build_runtime(settings: Settings, db: Database | None = None) -> Runtime:
    secret = settings.secret_bytes
    return Runtime(
        settings=settings,
        db=db or Database.from_url(settings.database_url),
        keyring=Keyring(secret, retention=dt.timedelta(days=settings.key_retention_days)),
        subject_keys=SubjectKeys(secret),
    )
