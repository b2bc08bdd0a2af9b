"""The rights routers' view of the running service (kept on `app.state` by `service.app`)."""

from __future__ import annotations

from fastapi import Request

from attestations import vouching
from rights.tombstones import TombstoneJournal


def tombstones_of(request: Request) -> TombstoneJournal:
    """The tombstone journal every erasure is written to before it commits."""
    journal: TombstoneJournal = request.app.state.tombstones
    return journal


def vouching_of(request: Request) -> vouching.VouchingConfig:
    """Peer vouching's config (the rules, its keys), built once by the runtime."""
    config: vouching.VouchingConfig = request.app.state.runtime.vouching
    return config
