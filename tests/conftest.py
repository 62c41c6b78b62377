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
def _own_create_journal(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Each test gets its own CreateImage journal (the default file and the in-memory one), so an
    intent a test leaves open is never resumed by a later test whose emulator reuses the port."""
    from zenlayer_widgets.core import journal

    path = Path(request.config.stash[_ENV][1]) / "journals" / f"{uuid.uuid4().hex}.jsonl"
    monkeypatch.setattr(journal, "_memory_journal", journal.Journal(None))
    monkeypatch.setattr(journal, "default_journal_path", lambda: path)


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
