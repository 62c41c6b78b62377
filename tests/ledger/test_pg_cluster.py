"""The PostgreSQL test server: missing binaries are a clear failure (with the fix), never a skip."""

from __future__ import annotations

import pg_cluster
import pytest


def test_missing_server_binaries_fail_with_the_fix(monkeypatch):
    monkeypatch.setattr(pg_cluster.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(pg_cluster.shutil, "which", lambda name: None)
    assert pg_cluster.find_bindir() is None
    with pytest.raises(RuntimeError, match=r"apt-get install -y postgresql.*ZENLAYER_TEST_POSTGRES_URL"):
        pg_cluster.start_cluster()


def test_the_session_server_is_real_and_each_test_gets_its_own_schema(postgres_base_url):
    import sqlalchemy as sa

    first, second = (pg_cluster.fresh_schema_url(postgres_base_url) for _ in range(2))
    engines = [sa.create_engine(url) for url in (first, second)]
    try:
        with engines[0].begin() as connection:
            connection.exec_driver_sql("CREATE TABLE here (x int)")
            assert connection.exec_driver_sql("SHOW server_version").scalar()
        with engines[1].connect() as connection:
            assert not sa.inspect(connection).has_table("here")
    finally:
        for engine in engines:
            engine.dispose()
