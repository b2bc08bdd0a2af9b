"""The steward API under /steward/api (JSON; JSON Lines for the export).

Thin: `api_steward` decides access (404 for everyone else), the read is audited, then one
function of rights/steward.py or audit/log.py answers. Bearer access tokens need the
`steward` scope; a logged-in steward's browser session works too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import AuditCheckpoint, AuditLog, MerkleError, export_entries
from core import InvalidInput, NotFound, database_of, db_session, utcnow
from keys import subject_keys_of
from rights.steward import (
    EntryFilter,
    consent_overview,
    erasure_json,
    erasure_overview,
    list_entries,
)
from rights.steward_access import Steward, api_steward, audit_read
from rights.vouching_steward import graph_view, report_views
from rights.web import vouching_of

router = APIRouter(prefix="/steward/api", tags=["steward"])
SessionDep = Annotated[Session, Depends(db_session)]
HEX64 = r"^[0-9a-f]{64}$"
EVENT = r"^[a-z][a-z0-9_.]{0,63}$"


def _steward(request: Request, session: SessionDep) -> Steward:
    return api_steward(request, session)


StewardDep = Annotated[Steward, Depends(_steward)]


def _audit_log(request: Request) -> AuditLog:
    log: AuditLog = request.app.state.runtime.audit
    return log


def _read(request: Request, session: Session, steward: Steward, what: str, **details: Any) -> None:
    audit_read(session, subject_keys_of(request), steward, what, details)
    session.commit()


def _json(data: Any) -> JSONResponse:
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


@router.get("/audit/entries")
def entries(
    request: Request,
    session: SessionDep,
    steward: StewardDep,
    event: Annotated[str | None, Query(pattern=EVENT)] = None,
    subject: Annotated[str | None, Query(pattern=HEX64)] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    after: Annotated[int | None, Query(ge=-1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSONResponse:
    """Audit entries, oldest first, filtered by event type, opaque subject reference and time
    range (`since` inclusive, `until` exclusive); page with `after` = the last index seen."""
    for moment in (since, until):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("since and until need a time zone (for example 'Z')")
    try:  # year 1 at +01:00 is a valid ISO time that UTC cannot hold
        since, until = (m.astimezone(dt.UTC) if m else None for m in (since, until))
    except OverflowError:
        raise InvalidInput("since and until must lie between the years 1 and 9999 in UTC") from None
    flt = EntryFilter(event, subject, since, until, after, limit)
    rows = list_entries(session, flt)
    _read(request, session, steward, "audit.entries", filters=flt.used(), count=len(rows))
    next_after = rows[-1]["index"] if len(rows) == limit else None
    return _json({"entries": rows, "next_after": next_after})


@router.get("/audit/proofs/inclusion")
def inclusion_proof(
    request: Request,
    session: SessionDep,
    steward: StewardDep,
    index: Annotated[int, Query(ge=0)],
    tree_size: Annotated[int | None, Query(ge=1)] = None,
) -> JSONResponse:
    """RFC 9162 §2.1.3 inclusion proof of entry `index` in the tree of `tree_size` (default:
    the current tree)."""
    log = _audit_log(request)
    size = log.size(session)
    if index >= (tree_size or size) or (tree_size or 0) > size:
        raise NotFound("No such entry in a tree of that size.")
    proof = log.inclusion(session, index, tree_size)
    _read(request, session, steward, "audit.inclusion_proof", index=index)
    return _json(proof)


@router.get("/audit/proofs/consistency")
def consistency_proof(
    request: Request,
    session: SessionDep,
    steward: StewardDep,
    old_size: Annotated[int, Query(ge=1)],
    tree_size: Annotated[int | None, Query(ge=1)] = None,
) -> JSONResponse:
    """RFC 9162 §2.1.4 consistency proof between the tree of `old_size` and `tree_size`."""
    log = _audit_log(request)
    size = log.size(session)
    if old_size > (tree_size or size) or (tree_size or 0) > size:
        raise NotFound("No tree of that size.")
    try:
        proof = log.consistency(session, old_size, tree_size)
    except MerkleError as exc:
        raise InvalidInput(str(exc)) from exc
    _read(request, session, steward, "audit.consistency_proof", old_size=old_size)
    return _json(proof)


def _checkpoint_json(row: AuditCheckpoint) -> dict[str, Any]:
    return {
        "tree_size": row.tree_size,
        "created_at": row.created_at.isoformat(),
        "note": row.note,
    }


@router.get("/audit/checkpoints")
def checkpoints(request: Request, session: SessionDep, steward: StewardDep) -> JSONResponse:
    """Every signed checkpoint (C2SP signed notes), oldest first."""
    rows = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)))
    _read(request, session, steward, "audit.checkpoints", count=len(rows))
    return _json({"checkpoints": [_checkpoint_json(r) for r in rows]})


@router.get("/audit/checkpoints/latest")
def latest_checkpoint(request: Request, session: SessionDep, steward: StewardDep) -> JSONResponse:
    """The newest signed checkpoint, as JSON; its note verifies with `kluis audit key`."""
    row = _audit_log(request).latest_checkpoint(session)
    if row is None:
        raise NotFound("No checkpoint has been signed yet.")
    _read(request, session, steward, "audit.checkpoint", tree_size=row.tree_size)
    return _json(_checkpoint_json(row))


@router.get("/audit/export")
def export(request: Request, session: SessionDep, steward: StewardDep) -> StreamingResponse:
    """Every entry as JSON Lines (`application/jsonl`), streamed in its own transaction."""
    _read(request, session, steward, "audit.export")
    database = database_of(request)

    def lines() -> Iterator[bytes]:
        with database.transaction() as own:
            for line in export_entries(own):
                yield (line + "\n").encode("utf-8")

    return StreamingResponse(
        lines(),
        media_type="application/jsonl",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="kluis-audit.jsonl"',
        },
    )


@router.get("/erasure")
def erasure(request: Request, session: SessionDep, steward: StewardDep) -> JSONResponse:
    """Every erasure request with due date, per-platform delivery state and overdue flag."""
    lines = erasure_overview(session, utcnow())
    _read(request, session, steward, "erasure.overview", count=len(lines))
    return _json({"requests": [erasure_json(line) for line in lines]})


@router.get("/consents")
def consents(request: Request, session: SessionDep, steward: StewardDep) -> JSONResponse:
    """Counts of consent records per platform, claim and state (no personal data)."""
    counts = consent_overview(session)
    _read(request, session, steward, "consent.overview")
    return _json(
        {
            "counts": [
                {"client_id": c.client_id, "claim": c.claim, "state": c.state, "count": c.count}
                for c in counts
            ]
        }
    )


@router.get("/vouching/reports")
def vouching_reports(request: Request, session: SessionDep, steward: StewardDep) -> JSONResponse:
    """Open reports of fake profiles, one per reported account, longest waiting first: the
    report to decide, the account's opaque reference, counts, and whether it holds
    `real_person`. Deciding is done on the steward pages (it asks for the password again)."""
    views = report_views(session, subject_keys_of(request))
    _read(request, session, steward, "vouching.reports", count=len(views))
    return _json({"reports": [view.to_json() for view in views]})


@router.get("/vouching/graph")
def vouching_graph(request: Request, session: SessionDep, steward: StewardDep) -> JSONResponse:
    """The confirmation graph's summary and warning signs (clusters that mostly confirm each
    other, vouchers near their quota, new accounts confirming many), by opaque reference."""
    view = graph_view(session, subject_keys_of(request), vouching_of(request), utcnow())
    _read(request, session, steward, "vouching.graph", signs=view.counts)
    return _json(view.to_json())
