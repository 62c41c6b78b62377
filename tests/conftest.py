"""For every test: the developer's own Zenlayer setup is invisible.

A ZENLAYER_* variable or a ~/.zenlayer/credentials file on the machine running the tests would
switch code (and notebook kernels) from the sandbox to the real API. So the session starts with
no ZENLAYER_* variables and HOME pointing at an empty temporary directory; tests set what they
need themselves.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_ENV = pytest.StashKey[tuple[pytest.MonkeyPatch, str]]()
#: ZENLAYER_TEST_POSTGRES_URL as the session was started with (cleared for the tests like every
#: ZENLAYER_* variable; read back by the PostgreSQL fixture only).
_ENV_AT_START: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    patch, home = pytest.MonkeyPatch(), tempfile.mkdtemp(prefix="zw-test-home-")
    for name in [name for name in os.environ if name.startswith("ZENLAYER_")]:
        if name == "ZENLAYER_TEST_POSTGRES_URL":
            _ENV_AT_START[name] = os.environ[name]
        patch.delenv(name)
    patch.setenv("HOME", home)
    config.stash[_ENV] = (patch, home)


def pytest_unconfigure(config: pytest.Config) -> None:
    patch, home = config.stash[_ENV]
    patch.undo()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(autouse=True)
def _own_ledger(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Each test gets its own ledger (the default SQLite file and the in-memory one), so an intent a
    test leaves open is never resumed by a later test whose emulator reuses the port."""
    from zenlayer_widgets.core import ledger

    path = Path(request.config.stash[_ENV][1]) / "ledgers" / f"{uuid.uuid4().hex}.sqlite3"
    monkeypatch.setattr(ledger, "_memory_ledger", None)  # a fresh one on first use
    monkeypatch.setattr(ledger, "default_ledger_path", lambda: path)


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    """A real PostgreSQL server for the whole session: ``ZENLAYER_TEST_POSTGRES_URL`` or a throwaway cluster."""
    import pg_cluster

    given = os.environ.get(pg_cluster.ENV_URL) or _ENV_AT_START.get(pg_cluster.ENV_URL)
    if given:
        yield given
        return
    try:
        cluster = pg_cluster.start_cluster()
    except (RuntimeError, OSError) as error:
        pytest.fail(f"No PostgreSQL for the ledger tests: {error}", pytrace=False)
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same ledger test on a SQLite file and on a fresh schema of a real PostgreSQL server."""
    if request.param == "sqlite":
        from zenlayer_widgets.core.ledger.store import sqlite_file_url

        return sqlite_file_url(tmp_path / "ledger.sqlite3")
    import pg_cluster

    return pg_cluster.fresh_schema_url(request.getfixturevalue("postgres_base_url"))
