from __future__ import annotations

from typing import AsyncIterator, Iterator

import pytest

from zenlayer_widgets.emulator import RunningEmulator, start_emulator

TRANSITION = 0.2


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A fresh demo-fleet emulator on a free loopback port; transitions take 0.2 s."""
    with start_emulator(transition_seconds=TRANSITION) as running:
        yield running


def credentials_for(emulator: RunningEmulator, password: str | None = None):
    from zenlayer_widgets.api.credentials import Credentials

    return Credentials(access_key_id=emulator.access_key_id, access_key_password=password or emulator.access_key_password)


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


def ids_by_name(emulator) -> dict[str, str]:
    return {record.instance_name: record.instance_id for record in emulator.backend.instances.values()}
