"""`kluis serve`'s app freezes what start-up built out of the cyclic collector's way
(`service.app._lifespan`); an app built any other way (tests build many) leaves the
collector alone."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.db import Database
from service.app import create_app_from_runtime
from service.runtime import build_runtime
from tests.conftest import make_settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's objects go back to the collector


@pytest.mark.usefixtures("unfrozen")
@pytest.mark.parametrize("serving", [True, False])
def test_only_a_serving_app_freezes_its_start_up_objects(
    tmp_path: Path, database_url: str, db: Database, serving: bool
) -> None:
    settings = make_settings(tmp_path, database_url)
    app = create_app_from_runtime(build_runtime(settings, db), serving=serving)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        frozen = gc.get_freeze_count()
    if serving:
        assert frozen > 10_000  # modules, the app, its routes and mappers
    else:
        assert frozen == 0
