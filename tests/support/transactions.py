"""The BEGIN, COMMIT and ROLLBACK psycopg sends by itself, per request of a test client: how
tests see which requests run in autocommit on PostgreSQL (none on SQLite)."""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support.databases import backend
from tests.support.verifier_requests import request_label


@contextlib.contextmanager
def transaction_commands(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, list[str]]]:
    """The BEGIN/COMMIT/ROLLBACK psycopg sends by itself, per request (`method path`)."""
    sent: dict[str, list[str]] = collections.defaultdict(list)
    current = {"label": "test"}

    def on_request(request: httpx.Request) -> None:
        current["label"] = request_label(request)

    if backend() == "postgresql":
        from psycopg._connection_base import BaseConnection

        original = BaseConnection._exec_command

        def counted(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
            raw = command if isinstance(command, bytes) else str(command).encode()
            sent[current["label"]].append(raw.split()[0].decode().upper())
            return original(self, command, *args, **kwargs)

        monkeypatch.setattr(BaseConnection, "_exec_command", counted)

    def on_response(response: httpx.Response) -> None:
        current["label"] = "test"  # what the test itself reads

    client.event_hooks["request"].append(on_request)
    client.event_hooks["response"].append(on_response)
    try:
        yield sent
    finally:
        client.event_hooks["request"].remove(on_request)
        client.event_hooks["response"].remove(on_response)
