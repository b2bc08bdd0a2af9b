"""Platforms (relying parties) as operators manage them, from `kluis clients` and from the
console at /console/platforms alike: each change is audited in the same transaction, with
the acting operator (`operator:cli`, or `operator:<reference>` for a console account).

The audit entries name the platform by its client id only (never its name: a name such as
"Buurt 1087" would read as personal data to the log's last line of defence)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import PlatformDeliveries, outbox_health
from audit import record
from identity.oidc.clients import ClientSpec, create_client, remove_client, rotate_secret
from identity.oidc.models import Client
from identity.oidc.presets import get_preset, preset_spec


def platform_spec(preset: str | None, base_url: str | None, given: Mapping[str, Any]) -> ClientSpec:
    """The client a preset fills for `base_url` (`given` values that are not None win), or,
    without a preset, exactly what was given."""
    if preset:
        return preset_spec(get_preset(preset), base_url or "", given)
    return ClientSpec(**{k: v for k, v in given.items() if v is not None})


def add_platform(
    session: Session, spec: ClientSpec, actor: str, preset: str | None = None
) -> tuple[Client, str | None]:
    """Register the platform; its secret (None for public and key-based clients) is returned
    once, only its hash is kept."""
    client, secret = create_client(session, spec)
    details = {"client": client.client_id, "auth_method": client.token_endpoint_auth_method}
    record(session, "client.added", actor, None, {**details, "preset": preset or ""})
    return client, secret


def rotate_platform_secret(session: Session, client: Client, actor: str) -> str:
    """A new secret; the old one stops working at once."""
    secret = rotate_secret(session, client)
    record(session, "client.secret_rotated", actor, None, {"client": client.client_id})
    return secret


def remove_platform(session: Session, client: Client, actor: str) -> None:
    """Remove the platform and everything issued to it."""
    client_id = client.client_id
    remove_client(session, client)
    record(session, "client.removed", actor, None, {"client": client_id})


@dataclasses.dataclass(frozen=True)
class PlatformOutbox:
    """A platform's deliveries (back-channel logout, erasure events) as operators see them;
    `name` is None for a platform removed while deliveries to it remained."""

    name: str | None
    deliveries: PlatformDeliveries

    def as_dict(self) -> dict[str, Any]:
        d = self.deliveries
        return {
            "client_id": d.client_id,
            "client_name": self.name,
            "pending": d.pending,
            "failing": d.failing,
            "delivered": d.delivered,
            "oldest_waiting_at": d.oldest_waiting_at.isoformat() if d.oldest_waiting_at else None,
            "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None,
            "most_attempts": d.most_attempts,
            "last_error": d.last_error,
        }


def outbox_by_platform(session: Session) -> list[PlatformOutbox]:
    """The outbox's health per platform, failing platforms first."""
    lines = outbox_health(session)
    ids = [line.client_id for line in lines]
    found = session.execute(select(Client.client_id, Client.name).where(Client.client_id.in_(ids)))
    names = {client_id: name for client_id, name in found}
    return [PlatformOutbox(names.get(line.client_id), line) for line in lines]
