"""ImageStudio over a sync client: it runs on the client's own async counterpart, and a client the
studio made itself (``connect()``) is closed with it."""

from __future__ import annotations

import asyncio

import zenlayer_widgets.widgets.studio as studio_module
from zenlayer_widgets.widgets import ImageStudio


async def test_the_studio_runs_on_the_sync_clients_counterpart_and_leaves_it_open(emulator):
    with emulator.client(sandbox=True) as client:
        studio = ImageStudio(client, auto_refresh=False, load=False)
        assert studio.controller.client is client.async_client()  # owned by the client, for this loop
        await studio.controller.refresh()
        assert len(studio.controller.instances) == len(emulator.backend.instances)
        studio.close()
        assert not client.closed and not studio.controller.client.closed  # the caller's client stays open
    await asyncio.sleep(0.05)
    assert studio.controller.client.closed  # closed with its owner


async def test_a_client_the_studio_made_is_closed_with_the_studio(emulator, monkeypatch):
    made = []

    def connect():  # what connect() returns in sandbox mode, on the in-process emulator
        made.append(emulator.client(sandbox=True))
        return made[-1]

    monkeypatch.setattr(studio_module, "connect", connect)
    studio = ImageStudio(auto_refresh=False, load=False)
    await studio.controller.refresh()
    assert studio.controller.inventory is not None
    studio.close()
    await asyncio.sleep(0.05)
    assert made[0].closed and studio.controller.client.closed
