"""Rotating the signing keys (of ID tokens, logout and event tokens, SD-JWT VCs and audit
checkpoints) as operators do it, from `kluis keys rotate` and from the console at
/console/keys alike: the staged rotation of `keys.Keyring` (the new key is published in the
JWKS first and signs only after `publish_delay`, longer than the JWKS may be cached), removed
keys pruned, and a `key.rotated` audit entry in the same transaction (DESIGN.md, privacy
invariant 6). It lives here, above the audit log, because `keys` sits below it."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import click
from sqlalchemy.orm import Session

from audit import record
from core import Database
from keys import JWKS_MAX_AGE_SECONDS, SUPPORTED_ALGS, Keyring, models

PUBLISH_DELAY = dt.timedelta(seconds=2 * JWKS_MAX_AGE_SECONDS)


def rotate_signing_key(
    session: Session,
    keyring: Keyring,
    alg: str,
    actor: str,
    publish_delay: dt.timedelta = PUBLISH_DELAY,
) -> models.SigningKey:
    """Publish a new `alg` key that signs from now + `publish_delay`; prune removed keys."""
    if alg not in SUPPORTED_ALGS:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    row = keyring.rotate(session, alg, publish_delay)
    pruned = keyring.prune(session)
    details = {"kid": row.kid, "alg": alg, "activates_at": row.activates_at.isoformat()}
    record(session, "key.rotated", actor, None, {**details, "pruned": pruned})
    return row


class _KeysRuntime(Protocol):
    @property
    def db(self) -> Database: ...
    @property
    def keyring(self) -> Keyring: ...


@click.command("rotate")
@click.option("--alg", type=click.Choice(SUPPORTED_ALGS), default="RS256", show_default=True)
@click.option(
    "--publish-delay",
    type=int,
    default=int(PUBLISH_DELAY.total_seconds()),
    show_default=True,
    help="Seconds the new key is published before it signs (must exceed JWKS caching).",
)
@click.pass_obj
def keys_rotate_cli(runtime: _KeysRuntime, alg: str, publish_delay: int) -> None:
    """Publish a new signing key; it becomes active after the publish delay (audited)."""
    if publish_delay < 0:
        raise click.BadParameter("must be zero or more", param_hint="--publish-delay")
    with runtime.db.transaction() as session:
        row = rotate_signing_key(
            session, runtime.keyring, alg, "operator:cli", dt.timedelta(seconds=publish_delay)
        )
    click.echo(f"published {row.kid} ({alg}); it signs from {row.activates_at.isoformat()}")
