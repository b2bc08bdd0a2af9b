"""`core.in_session`: a hot endpoint's database work in the thread pool, in a session of its
own that is rolled back unless the work committed (what `db_session` does for sync routes)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import Database, in_session
from keys.models import SubjectKey


def _app(db: Database) -> FastAPI:
    app = FastAPI()
    app.state.db = db

    def add(session: Session, subject: str, commit: bool) -> str:
        session.add(
            SubjectKey(
                subject_id=subject,
                wrapped_key=b"x",
                kek_fingerprint=None,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        session.flush()
        if commit:
            session.commit()
            return "committed"
        raise RuntimeError("refused after writing")

    @app.post("/write/{subject}")
    async def write(request: Request, subject: str, commit: bool = False) -> str:
        return await in_session(request, lambda s: add(s, subject, commit))

    return app


def _stored(session: Session, subject: str) -> bool:
    found = session.scalar(select(SubjectKey.subject_id).where(SubjectKey.subject_id == subject))
    return found is not None


def test_committed_work_stays_and_failed_work_is_rolled_back(
    db: Database, session: Session
) -> None:
    with TestClient(_app(db), raise_server_exceptions=True) as client:
        assert client.post("/write/kept", params={"commit": True}).json() == "committed"
        with pytest.raises(RuntimeError, match="refused after writing"):
            client.post("/write/dropped")
    assert _stored(session, "kept")
    assert not _stored(session, "dropped")
