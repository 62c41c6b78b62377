"""Every change the package makes is one action in the ledger: stop, start, delete, rename (and create)."""

from __future__ import annotations

import pytest

from zenlayer_widgets.api.client import AsyncZenlayerClient
from zenlayer_widgets.api.errors import APIError, ZenlayerError
from zenlayer_widgets.core.changes import delete_image_async, rename_image_async, start_instance_async
from zenlayer_widgets.core.create import create_image_async, stop_instance_async
from zenlayer_widgets.core.ledger import account_of, ledger_for
from zenlayer_widgets.emulator import mock_zenlayer


async def fast(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(min(seconds, 0.01))


@pytest.fixture
def mock_emulator():
    """The in-process emulator (no socket needed here), with quick transitions."""
    with mock_zenlayer(transition_seconds=0.05) as running:
        yield running


def client_for(mock_emulator) -> AsyncZenlayerClient:
    return mock_emulator.async_client()  # a real-account client: the default ledger


def named(mock_emulator, name: str) -> str:
    return mock_emulator.backend.instance_named(name).instance_id


async def test_stop_start_create_rename_delete_are_each_recorded_with_who_and_the_request_id(mock_emulator):
    web = named(mock_emulator, "web-hkg-01")
    async with client_for(mock_emulator) as client:
        await stop_instance_async(client, web, poll_interval=0.1, sleep=fast)
        made = await create_image_async(client, web, "recorded", poll_interval=0.1, sleep=fast)
        await rename_image_async(client, made.image_id, "recorded-2", zone_id="HKG-A", old_name="recorded")
        await delete_image_async(client, made.image_id, zone_id="HKG-A", image_name="recorded-2")
        await start_instance_async(client, web, zone_id="HKG-A")
        history = ledger_for(client).history(account_of(client))
    assert [a.kind for a in history] == ["start", "delete", "rename", "create", "create", "stop"]
    assert all(a.outcome in ("done", "available", "submitted") and "@" in a.who and a.request_id for a in history)
    start, delete, rename, *_, stop = history
    assert (stop.instance_id, stop.zone_id, start.instance_id) == (web, "HKG-A", web)
    assert (delete.image_id, delete.image_name, rename.image_name, rename.detail) == (
        made.image_id, "recorded-2", "recorded-2", "was recorded")
    assert mock_emulator.backend.instances[web].status in ("BOOTING", "RUNNING")


async def test_a_refused_or_lost_change_is_recorded_as_such(mock_emulator):
    build = named(mock_emulator, "build-hkg-01")
    async with client_for(mock_emulator) as client:
        with pytest.raises(APIError):
            await start_instance_async(client, named(mock_emulator, "web-hkg-01"))  # RUNNING: refused
        mock_emulator.set_faults(["StartInstances:lost_response:1"])
        with pytest.raises(ZenlayerError):
            await start_instance_async(client, build)
        refused_delete = pytest.raises(APIError)
        with refused_delete:
            await delete_image_async(client, "img-does-not-exist")
        history = ledger_for(client).history(account_of(client))
    assert [(a.kind, a.outcome) for a in history] == [("delete", "refused"), ("start", "unknown"), ("start", "refused")]
    assert history[0].detail == "INVALID_IMAGE_NOT_FOUND" and history[2].detail == "OPERATION_DENIED_INSTANCE_NOT_STOPPED"
    assert mock_emulator.backend.instances[build].status in ("BOOTING", "RUNNING")  # applied though its answer was lost


async def test_the_studio_records_its_delete(mock_emulator):
    from zenlayer_widgets.studio.controller import StudioController

    async with client_for(mock_emulator) as client:
        controller = StudioController(client, poll_interval=0.1, sleep=fast)
        await controller.refresh()
        label, image_id = controller.deletable_images()[0]
        controller.request_delete(image_id)
        await controller.confirm_delete()
        controller.close()
        [delete] = ledger_for(client).history(account_of(client), kinds=["delete"])
    assert (delete.image_id, delete.outcome) == (image_id, "done") and delete.image_name in label and delete.zone_id in label
    assert image_id not in mock_emulator.backend.images
