"""Shared pieces of the steward tests (fixtures are in tests/functional/consent/conftest.py)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from identity.accounts.roles import STEWARD, grant_role
from service.runtime import Runtime

STEWARD_EMAIL = "steward@example.org"
RESIDENT_EMAIL = "bewoner@example.org"
API = "/steward/api"
API_PATHS = [
    f"{API}/audit/entries",
    f"{API}/audit/proofs/inclusion?index=0",
    f"{API}/audit/proofs/consistency?old_size=1",
    f"{API}/audit/checkpoints",
    f"{API}/audit/checkpoints/latest",
    f"{API}/audit/export",
    f"{API}/erasure",
    f"{API}/consents",
]
PAGES = ["/steward/erasure", "/steward/consents", "/steward/audit"]


def grant(runtime: Runtime, session: Session, account_id: str) -> None:
    grant_role(session, runtime.subject_keys, account_id, STEWARD, "operator:cli")
    session.commit()


def steward_reads(session: Session) -> list[dict[str, object]]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.event == "steward.read"))
    return [json.loads(r.entry) for r in rows]
