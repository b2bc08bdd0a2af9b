"""The multi-host PostgreSQL URL of the high-availability set-up (docs/operators.md, "High
availability"): libpq's spelling is accepted, and the LISTEN connection connects exactly where
the engine does.
"""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url

from core.db import libpq_conninfo, make_engine, multi_host_url

MULTI = "postgresql+psycopg://kluis:p%40ss@db1:5432,db2:5433/kluis?target_session_attrs=read-write"


def test_libpq_multi_host_spelling_becomes_sqlalchemy_host_list() -> None:
    url = make_url(multi_host_url(MULTI))
    assert url.query["host"] == ("db1:5432", "db2:5433")
    assert url.database == "kluis" and url.password == "p@ss"
    assert url.query["target_session_attrs"] == "read-write"


def test_other_urls_are_left_alone() -> None:
    for url in ("sqlite:///var/kluis.sqlite3", "postgresql+psycopg://kluis@db1:5432/kluis"):
        assert multi_host_url(url) == url


def test_the_engine_tries_every_host_with_a_connect_timeout() -> None:
    engine = make_engine(MULTI)
    _, params = engine.dialect.create_connect_args(engine.url)
    assert params["host"] == "db1,db2" and params["port"] == "5432,5433"
    assert params["connect_timeout"] == "5"
    assert params["target_session_attrs"] == "read-write"


def test_the_listen_connection_uses_the_same_hosts_and_options() -> None:
    info = psycopg.conninfo.conninfo_to_dict(libpq_conninfo(MULTI + "&options=-csearch_path%3Dt1"))
    assert info["host"] == "db1,db2" and info["port"] == "5432,5433"
    assert info["target_session_attrs"] == "read-write"
    assert info["options"] == "-csearch_path=t1"
    assert info["connect_timeout"] == "5" and info["password"] == "p@ss"
