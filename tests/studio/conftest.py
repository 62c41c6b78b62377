from __future__ import annotations

from typing import AsyncIterator, Iterator

import pytest

from zenlayer_widgets.emulator import InProcessEmulator


@pytest.fixture
def emulator(mock_emulator: InProcessEmulator) -> Iterator[InProcessEmulator]:
    """A fresh demo-fleet emulator in this process (no socket); transitions take 0.2 s."""
    yield mock_emulator


def credentials_for(emulator: InProcessEmulator, password: str | None = None):
    from zenlayer_widgets.api.credentials import Credentials

    return Credentials(access_key_id=emulator.access_key_id, access_key_password=password or emulator.access_key_password)


@pytest.fixture
async def aclient(emulator) -> AsyncIterator:
    async with emulator.async_client(sandbox=True) as client:
        yield client


@pytest.fixture
def client(emulator):
    with emulator.client(sandbox=True) as c:
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
