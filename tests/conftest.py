"""The fixtures every test folder shares, and for every test: the developer's own Zenlayer setup is invisible.

Shared fixtures (folder-specific ones live in that folder's conftest.py; plain helpers in
tests/shared.py). One name, one meaning: ``emulator`` and ``slow_emulator`` are always a real emulator
server on a loopback port, ``client`` and ``aclient`` our sync and async clients signed in to it;
``mock_emulator`` is always the emulator in this process (no socket), ``mock_client`` and ``mock_aclient``
our clients on it. A folder or file may override one of them only with the same kind of thing.
``found`` and ``cli``: secrets that are easy to find, and an emulator subprocess accepting them.

A ZENLAYER_* variable or a ~/.zenlayer/credentials.json file on the machine running the tests would
switch code (and notebook kernels) from the sandbox to the real API. So the session starts with
no ZENLAYER_* variables and HOME pointing at an empty temporary directory; tests set what they
need themselves.

The shared sandbox of the session lives in ``$HOME/sandboxes/session`` (ZENLAYER_SANDBOX_DIR);
tests that want one of their own take a sibling directory (``.parent / <random>``). Every sandbox
server started under ``$HOME/sandboxes`` is stopped when the session ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from security.leaks import CliEmulator, Secrets
from shared import credentials_for
from zenlayer_widgets.api.client import AsyncZenlayerClient, ZenlayerClient
from zenlayer_widgets.emulator import RunningEmulator, start_emulator

#: Seconds an emulated transition (STOPPING -> STOPPED, CREATING -> AVAILABLE) takes in `emulator`.
TRANSITION = 0.2

_ENV = pytest.StashKey[tuple[pytest.MonkeyPatch, str]]()
#: ZENLAYER_TEST_POSTGRES_URL as the session was started with (cleared for the tests like every
#: ZENLAYER_* variable; read back by the PostgreSQL fixture only).
_ENV_AT_START: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    patch, home = pytest.MonkeyPatch(), tempfile.mkdtemp(prefix="zw-test-home-")
    # The contract checks' live mode (tests/contract) reads the caller's own settings from here.
    config.zenlayer_original_environ = dict(os.environ)  # type: ignore[attr-defined]
    for name in [name for name in os.environ if name.startswith("ZENLAYER_")]:
        if name == "ZENLAYER_TEST_POSTGRES_URL":
            _ENV_AT_START[name] = os.environ[name]
        patch.delenv(name)
    patch.setenv("HOME", home)
    patch.setenv("ZENLAYER_SANDBOX_DIR", str(Path(home) / "sandboxes" / "session"))
    config.stash[_ENV] = (patch, home)


def pytest_unconfigure(config: pytest.Config) -> None:
    from browser.harness.jupyter_env import stop_sandboxes

    patch, home = config.stash[_ENV]
    stop_sandboxes(Path(home) / "sandboxes")
    patch.undo()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(autouse=True)
def _own_ledger(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Each test starts as a fresh kernel would (``reset_for_tests``: no cached client, ledger, live owner...) and
    gets its own ledger files, so an intent a test leaves open is never resumed by a later test whose emulator
    reuses the port."""
    from zenlayer_widgets import _state
    from zenlayer_widgets.core import ledger

    _state.reset_for_tests()
    path = Path(request.config.stash[_ENV][1]) / "ledgers" / f"{uuid.uuid4().hex}.sqlite3"
    monkeypatch.setattr(ledger, "default_ledger_path", lambda: path)
    sandbox_path = path.with_name(f"sandbox-{path.name}")  # the sandbox's ledger file, per test too
    monkeypatch.setattr(ledger, "sandbox_ledger_path", lambda: sandbox_path)


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A fresh demo-fleet emulator on a free loopback port; transitions take 0.2 s."""
    with start_emulator(transition_seconds=TRANSITION) as running:
        yield running


@pytest.fixture
def slow_emulator() -> Iterator[RunningEmulator]:
    """Transitions take an hour unless a test calls ``backend.advance`` (states stay put)."""
    with start_emulator(transition_seconds=3600) as running:
        yield running


@pytest.fixture
async def aclient(emulator: RunningEmulator) -> AsyncIterator[AsyncZenlayerClient]:
    """Our async client, signed in to ``emulator`` (sandbox-flagged, as the studio would have it)."""
    async with AsyncZenlayerClient(credentials_for(emulator), base_url=emulator.url, sandbox=True) as client:
        yield client


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[ZenlayerClient]:
    """Our sync client, signed in to ``emulator``."""
    with ZenlayerClient(credentials_for(emulator), base_url=emulator.url, sandbox=True) as c:
        yield c


@pytest.fixture(scope="module")
def found() -> Secrets:
    """Fresh secrets for a test module."""
    return Secrets.generate()


@pytest.fixture(scope="module")
def cli(found: Secrets, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliEmulator]:
    """A :class:`~security.leaks.CliEmulator` (a subprocess) accepting ``found``'s secrets, for a test module."""
    emulator = CliEmulator(found, tmp_path_factory.mktemp("cli") / "emulator.log")
    yield emulator
    emulator.stop()


@pytest.fixture
def mock_emulator():
    """The emulator in this process, no socket (``mock_zenlayer``): demo fleet, 0.2 s transitions.

    ``mock_emulator.client()`` / ``.async_client()`` are clients on its transport; ``backend``,
    ``set_faults`` and the credentials are those of a ``start_emulator`` server. Use a real server
    only where sockets matter (the raw Host, dropped connections, the official SDK, subprocesses).
    """
    from zenlayer_widgets.emulator import mock_zenlayer

    with mock_zenlayer(transition_seconds=0.2) as emulator:
        yield emulator


@pytest.fixture
async def mock_aclient(mock_emulator) -> AsyncIterator[AsyncZenlayerClient]:
    """Our async client on ``mock_emulator`` (sandbox-flagged, as the studio would have it)."""
    async with mock_emulator.async_client(sandbox=True) as client:
        yield client


@pytest.fixture
def mock_client(mock_emulator) -> Iterator[ZenlayerClient]:
    """Our sync client on ``mock_emulator`` (sandbox-flagged)."""
    with mock_emulator.client(sandbox=True) as client:
        yield client


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
        from zenlayer_widgets.core.ledger.engine import sqlite_file_url

        return sqlite_file_url(tmp_path / "ledger.sqlite3")
    import pg_cluster

    return pg_cluster.fresh_schema_url(request.getfixturevalue("postgres_base_url"))
