"""The rights routers' view of the running service (kept on `app.state` by `service.app`)."""

from __future__ import annotations

from fastapi import Request

from rights.tombstones import TombstoneJournal


def tombstones_of(request: Request) -> TombstoneJournal:
    """The tombstone journal every erasure is written to before it commits."""
    journal: TombstoneJournal = request.app.state.tombstones
    return journal
