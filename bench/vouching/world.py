"""A random neighbourhood for the vouching benchmark, and its bulk load into the tables.

`generate` grows a confirmation graph over a year the way the rules allow it: seed vouchers
from day 0; residents join one after another, each confirmed by 2 or more vouchers who were
eligible at that moment (a seed, or a resident whose own attestation was 30 days old) and
pairwise independent (no common confirmer); a resident with 2 independent confirmations gets
a peer grant and collects its `real_person` credential a day after joining. One resident, the
HUB, joins on day 1 and takes part in a share of all later confirmations: the voucher with a
large downstream that the benchmark finds fake. The generator does not enforce the quota (3 per
30 days): a neighbourhood of 100 000 cannot grow from a few hundred seeds in a year under it,
and the cascade does not read quotas. No addresses are recorded (the shared-address rule is
idle).

`load` writes it with COPY (PostgreSQL) or executemany (SQLite): accounts and their data keys,
seed appointments, confirmations, status lists, issued credentials, peer grants, and the
`attestation.issued` audit entries that tie each credential to its grant's offer (appended with
`audit.record_many`, chained like any other entries).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import secrets
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from attestations.models import IssuedCredential, StatusList
from attestations.vouching.models import Confirmation, PeerGrant, SeedVoucher
from audit import Pending, record_many
from identity.accounts.models import Account
from keys import SubjectKeys
from keys.models import SubjectKey

DAY = dt.timedelta(days=1)
VALID_DAYS = 365  # the real_person type's validity
VALIDITY = VALID_DAYS * DAY
COLLECTED_BY = dt.timedelta(minutes=20)  # offer + access token lifetimes
MIN_AGE = 30  # days a voucher's own attestation must be old
LIST_SIZE = 2**17
LIST_FILL = LIST_SIZE // 2
BATCH = 5_000


@dataclass
class World:
    members: int
    seeds: int
    hub: int
    start: dt.datetime  # day 0
    now: dt.datetime
    ids: list[str] = field(default_factory=list)
    joined: list[float] = field(default_factory=list)  # day
    granted: list[float | None] = field(default_factory=list)  # day of the peer grant
    edges: list[tuple[int, int, float]] = field(default_factory=list)  # voucher, vouchee, day

    def at(self, day: float) -> dt.datetime:
        return self.start + day * DAY

    def vouchees_of(self, voucher: int) -> int:
        return sum(1 for v, _, _ in self.edges if v == voucher)


def generate(
    members: int, confirmations: int, seeds: int, hub_share: float, rng: random.Random
) -> World:
    """See the module docstring; `confirmations` is met within a few (picks can fail)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    world = World(members, seeds, hub=seeds, start=now - 400 * DAY, now=now)
    world.ids = [uuid.uuid4().hex for _ in range(members)]
    joiners = members - seeds
    world.joined = [0.0] * seeds + [1 + 369 * n / joiners for n in range(joiners)]
    world.granted = [None] * members
    wanted = [0] * seeds + [2] * joiners
    for _ in range(max(0, confirmations - 2 * joiners)):
        wanted[rng.randrange(seeds, members)] += 1
    confirmers: list[set[int]] = [set() for _ in range(members)]
    pool = list(range(seeds))  # eligible vouchers, in the order they became eligible
    ready: deque[int] = deque()  # granted, not eligible yet; by grant day (= join order)

    def can_vouch(voucher: int, day: float) -> bool:
        """Eligible on `day` and still on `day + 0.1`, when this vouchee's last confirmation
        is given (`day + 0.01 n`)."""
        if voucher < seeds:
            return True
        granted = world.granted[voucher]
        return granted is not None and granted + MIN_AGE <= day < granted + VALID_DAYS - 0.1

    for vouchee in range(seeds, members):
        day = world.joined[vouchee]
        while ready and can_vouch(ready[0], day):
            pool.append(ready.popleft())
        chosen: list[int] = []
        hub_share_here = hub_share * wanted[vouchee] if vouchee != world.hub else 0
        if can_vouch(world.hub, day) and rng.random() < hub_share_here:
            chosen.append(world.hub)
        tries = 0
        while len(chosen) < wanted[vouchee] and tries < 20 * wanted[vouchee]:
            tries += 1
            voucher = pool[rng.randrange(len(pool))]
            if (
                voucher in chosen
                or not can_vouch(voucher, day)
                or any(confirmers[voucher] & confirmers[c] for c in chosen)
            ):
                continue
            chosen.append(voucher)
        for n, voucher in enumerate(chosen):
            world.edges.append((voucher, vouchee, day + 0.01 * n))
            confirmers[vouchee].add(voucher)
        if len(chosen) >= 2:
            world.granted[vouchee] = day + 1
            ready.append(vouchee)
    return world


# --- loading ------------------------------------------------------------------------------------


def _copy(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Bulk insert: COPY on PostgreSQL, executemany in batches elsewhere."""
    count = 0
    if session.get_bind().dialect.name == "postgresql":
        raw = session.connection().connection.driver_connection
        names = ", ".join(columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) == BATCH:
            session.execute(table.insert(), batch)
            count, batch = count + len(batch), []
    if batch:
        session.execute(table.insert(), batch)
        count += len(batch)
    return count


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Loaded:
    grants: int
    credentials: int
    confirmations: int


def load(session: Session, subject_keys: SubjectKeys, world: World) -> Loaded:
    """Write the world (see the module docstring). The caller commits."""
    wrap = subject_keys.wrapped.wrap
    created = world.start
    _copy(
        session,
        Account.__table__,  # type: ignore[arg-type]
        ("id", "handle", "email_verified", "status", "created_at"),
        ((i, f"b-{i[:28]}", False, "active", created) for i in world.ids),
    )

    def key_rows() -> Iterator[tuple[Any, ...]]:
        for i in world.ids:
            wrapped, fingerprint = wrap.seal(os.urandom(32), i.encode())
            yield (i, wrapped, fingerprint, created)

    _copy(
        session,
        SubjectKey.__table__,  # type: ignore[arg-type]
        ("subject_id", "wrapped_key", "kek_fingerprint", "created_at"),
        key_rows(),
    )
    _copy(
        session,
        SeedVoucher.__table__,  # type: ignore[arg-type]
        ("id", "account_id", "appointed_at", "appointed_by"),
        ((uuid.uuid4().hex, world.ids[n], created, "operator:bench") for n in range(world.seeds)),
    )
    confirmations = _copy(
        session,
        Confirmation.__table__,  # type: ignore[arg-type]
        ("id", "voucher_id", "vouchee_id", "created_at"),
        (
            (uuid.uuid4().hex, world.ids[v], world.ids[a], world.at(day))
            for v, a, day in world.edges
        ),
    )
    granted = [(n, day) for n, day in enumerate(world.granted) if day is not None]
    lists = [secrets.token_hex(11) for _ in range(len(granted) // LIST_FILL + 1)]
    _copy(
        session,
        StatusList.__table__,  # type: ignore[arg-type]
        ("id", "bits", "size", "created_at"),
        ((list_id, 1, LIST_SIZE, created) for list_id in lists),
    )
    credentials = [secrets.token_hex(16) for _ in granted]
    offers = [uuid.uuid4().hex for _ in granted]
    _copy(
        session,
        IssuedCredential.__table__,  # type: ignore[arg-type]
        ("id", "account_id", "type", "status_list_id", "status_idx", "issued_at", "expires_at"),
        (
            (
                credentials[k],
                world.ids[n],
                "real_person",
                lists[k // LIST_FILL],
                k % LIST_FILL,
                world.at(day),
                world.at(day) + VALIDITY,
            )
            for k, (n, day) in enumerate(granted)
        ),
    )
    _copy(
        session,
        PeerGrant.__table__,  # type: ignore[arg-type]
        ("id", "account_id", "offer_id", "granted_at", "expires_at", "confirmations"),
        (
            (
                uuid.uuid4().hex,
                world.ids[n],
                offers[k],
                world.at(day),
                world.at(day) + VALIDITY + COLLECTED_BY,
                2,
            )
            for k, (n, day) in enumerate(granted)
        ),
    )
    # the credential endpoint's audit entries, under each resident's reference
    for part in _chunks(list(enumerate(granted)), 2_000):
        accounts = [world.ids[n] for _, (n, _) in part]
        keys = session.scalars(select(SubjectKey).where(SubjectKey.subject_id.in_(accounts))).all()
        assert len(keys) == len(accounts)
        record_many(
            session,
            [
                Pending(
                    "attestation.issued",
                    "resident",
                    subject_keys.reference(session, world.ids[n]),
                    {"credential_id": credentials[k], "type": "real_person", "offer_id": offers[k]},
                )
                for k, (n, _) in part
            ],
        )
        session.expunge_all()
    return Loaded(len(granted), len(credentials), confirmations)
