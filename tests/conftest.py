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
from pathlib import Path

import pytest

_ENV = pytest.StashKey[tuple[pytest.MonkeyPatch, str]]()


def pytest_configure(config: pytest.Config) -> None:
    patch, home = pytest.MonkeyPatch(), tempfile.mkdtemp(prefix="zw-test-home-")
    for name in [name for name in os.environ if name.startswith("ZENLAYER_")]:
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
    monkeypatch.setattr(ledger, "_memory_ledger", ledger.Ledger(None))
    monkeypatch.setattr(ledger, "default_ledger_path", lambda: path)
