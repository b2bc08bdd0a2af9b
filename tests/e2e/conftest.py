from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import drop_database, fresh_database_url
from tests.support.server import LiveServer, fresh_server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """An empty database (not migrated: the servers a test starts migrate it themselves)."""
    url = fresh_database_url(tmp_path)
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    with fresh_server(tmp_path) as server:
        yield server
