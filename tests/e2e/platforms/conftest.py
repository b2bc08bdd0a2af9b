"""The platform tests share one real `kluis serve` per test session (per xdist worker): each
platform registers its own client on it and each test its own resident."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.platforms import kluis_for_platforms
from tests.support.server import LiveServer


@pytest.fixture(scope="session")
def kluis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with kluis_for_platforms(tmp_path_factory.mktemp("kluis-platforms")) as server:
        yield server
