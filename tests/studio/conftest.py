"""Studio fixtures: clients and a loaded controller over the shared ``emulator`` (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared import credentials_for


@pytest.fixture
async def aclient(emulator) -> AsyncIterator:
    from zenlayer_widgets.api.client import AsyncZenlayerClient

    async with AsyncZenlayerClient(credentials_for(emulator), base_url=emulator.url, sandbox=True) as client:
        yield client


@pytest.fixture
def client(emulator):
    from zenlayer_widgets.api.client import ZenlayerClient

    with ZenlayerClient(credentials_for(emulator), base_url=emulator.url, sandbox=True) as c:
        yield c


@pytest.fixture
async def controller(aclient):
    from zenlayer_widgets.studio.controller import StudioController

    ctl = StudioController(aclient, poll_interval=0.05, auto_refresh_seconds=0.2)
    await ctl.refresh()
    yield ctl
    ctl.close()
