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


async def test_a_studio_made_without_a_client_never_closes_the_one_the_notebook_holds(emulator, monkeypatch):
    notebook = emulator.client(sandbox=True)  # what the notebook got from zw.connect()
    monkeypatch.setattr(studio_module, "connect", lambda **_: notebook)  # connect() returns that same open client
    studio = ImageStudio(auto_refresh=False, load=False)
    await studio.controller.refresh()
    assert studio.controller.inventory is not None and studio.controller.client is not notebook.async_client()
    studio.close()
    await asyncio.sleep(0.05)
    assert studio.controller.client.closed  # its own twin is closed with it
    assert not notebook.closed and notebook.list_instance_statuses()  # the notebook's client still works
    notebook.close()


async def test_switching_account_never_closes_the_notebooks_client_nor_kills_its_create(emulator, monkeypatch):
    from zenlayer_widgets.core.create import create_image_async

    notebook = emulator.client(sandbox=True)
    monkeypatch.setattr(studio_module, "connect", lambda **_: notebook)  # connect(sandbox=True): the same open client
    studio = ImageStudio(notebook, auto_refresh=False, load=False)
    await studio.controller.refresh()
    stopped = next(r.instance_id for r in emulator.backend.instances.values() if r.status == "STOPPED")
    create = asyncio.ensure_future(create_image_async(notebook.async_client(), stopped, "made-while-switching",
                                                      poll_interval=0.1))
    await asyncio.sleep(0)
    studio.switch_account(None)  # to the sandbox: the notebook's client stays the notebook's
    progress = await create
    assert progress.status == "AVAILABLE"
    assert not notebook.closed and not notebook.async_client().closed
    for _ in range(200):  # the reload on the studio's own twin
        if studio.controller.inventory is not None:
            break
        await asyncio.sleep(0.02)
    twin = studio.controller.client
    studio.close()
    await asyncio.sleep(0.05)
    assert twin.closed and not notebook.closed and not notebook.async_client().closed
    notebook.close()
