"""Studio fixtures: a loaded controller over the shared ``aclient`` and ``emulator`` (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from zenlayer_widgets.api.client import AsyncZenlayerClient, ZenlayerClient
from zenlayer_widgets.emulator import InProcessEmulator


@pytest.fixture
def emulator(mock_emulator: InProcessEmulator) -> Iterator[InProcessEmulator]:
    """A fresh demo-fleet emulator in this process (no socket); transitions take 0.2 s."""
    yield mock_emulator


@pytest.fixture
async def aclient(emulator: InProcessEmulator) -> AsyncIterator[AsyncZenlayerClient]:
    """The async client on the in-process emulator (sandbox-flagged, as the studio would have it)."""
    async with emulator.async_client(sandbox=True) as client:
        yield client


@pytest.fixture
def client(emulator: InProcessEmulator) -> Iterator[ZenlayerClient]:
    """The sync client on the in-process emulator."""
    with emulator.client(sandbox=True) as c:
        yield c


@pytest.fixture
async def controller(aclient):
    from zenlayer_widgets.studio.controller import StudioController

    ctl = StudioController(aclient, poll_interval=0.1, auto_refresh_seconds=0.2)
    await ctl.refresh()
    yield ctl
    ctl.close()
