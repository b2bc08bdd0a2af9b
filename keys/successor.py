"""When a signing key was retired: the first key of its algorithm started after it
(`signing.derive_states`: its `activates_at`). `Keyring.public_key` reads it on every call, so
a key removed by rotation is refused by every process at once; a request's first read can
fetch it with its own row (`successor_started_column`, `Keyring.note_successor`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import aliased

from keys.models import SigningKey


def _first_started_after(
    later: Any, alg: Any, activates_at: Any, created_at: Any, *where: Any
) -> Any:
    """`activates_at` of the first key of `alg` started by `now` (bound) after the key at
    (`activates_at`, `created_at`) in `derive_states`' order; `later` is the table (or an
    alias) it is read from, `where` more conditions."""
    return (
        select(later.activates_at)
        .where(
            *where,
            later.alg == alg,
            later.activates_at <= bindparam("now"),
            or_(
                later.activates_at > activates_at,
                and_(later.activates_at == activates_at, later.created_at > created_at),
            ),
        )
        .order_by(later.activates_at, later.created_at)
        .limit(1)
    )


# the key given by its alg and place in the order (bound values), `now` bound
SUCCESSOR_STARTED = _first_started_after(
    SigningKey, bindparam("alg"), bindparam("activates_at"), bindparam("created_at")
)


def successor_started_column() -> Any:
    """`SUCCESSOR_STARTED` of the key `successor_of` (a bound kid) as a scalar subquery: the
    `activates_at` of the first key of its algorithm started after it by `now` (bound), NULL
    if there is none, if the key has not started, or if there is no such key. Hand the value
    to `Keyring.note_successor`."""
    key, later = aliased(SigningKey), aliased(SigningKey)
    return _first_started_after(
        later,
        key.alg,
        key.activates_at,
        key.created_at,
        key.kid == bindparam("successor_of"),
        key.activates_at <= bindparam("now"),
    ).scalar_subquery()
