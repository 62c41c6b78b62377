"""create_image with stop_if_running / start_after: a RUNNING instance is refused unless asked to stop it;
then graceful stop -> STOPPED -> one create -> AVAILABLE -> started again -> RUNNING, the start owed in the ledger."""

from __future__ import annotations

import pytest

from zenlayer_widgets.api.client import AsyncZenlayerClient
from zenlayer_widgets.core.create import InstanceRunning, PreflightFailed, create_image_async
from zenlayer_widgets.core.ledger import account_of, ledger_for
from zenlayer_widgets.core.restart import PLANNED, pending_restart
from zenlayer_widgets.emulator import mock_zenlayer


async def fast(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(min(seconds, 0.01))


@pytest.fixture
def mock_emulator():
    """The in-process emulator (no socket needed here), with quick transitions."""
    with mock_zenlayer(transition_seconds=0.05) as running:
        stops: list[bool] = []
        original = running.backend.stop_instances

        def spy(instance_ids, force_shutdown=True):
            stops.append(force_shutdown)
            return original(instance_ids, force_shutdown)

        running.backend.stop_instances = spy
        running.stops = stops
        yield running


def client_for(mock_emulator) -> AsyncZenlayerClient:
    return mock_emulator.async_client()


def custom_images(mock_emulator) -> list[str]:
    return sorted(i.image_name for i in mock_emulator.backend.images.values() if i.image_type == "CUSTOM_IMAGE")


async def test_a_running_instance_without_stop_if_running_is_refused_with_the_reason_and_nothing_changes(mock_emulator):
    web = mock_emulator.backend.instance_named("web-hkg-01").instance_id
    before = custom_images(mock_emulator)
    async with client_for(mock_emulator) as client:
        with pytest.raises(InstanceRunning, match="RUNNING.*stop_if_running=True") as caught:
            await create_image_async(client, web, "kept-running", poll_interval=0.1, sleep=fast)
        history = ledger_for(client).history(account_of(client))
    assert isinstance(caught.value, PreflightFailed)
    assert mock_emulator.backend.instances[web].status == "RUNNING"
    assert custom_images(mock_emulator) == before and mock_emulator.stops == [] and history == []


async def test_stop_if_running_stops_gracefully_creates_once_and_starts_it_again(mock_emulator):
    web = mock_emulator.backend.instance_named("web-hkg-01").instance_id
    async with client_for(mock_emulator) as client:
        made = await create_image_async(client, web, "备份-01", stop_if_running=True, poll_interval=0.1, sleep=fast)
        history = ledger_for(client).history(account_of(client))
    assert mock_emulator.stops == [False]  # forceShutdown: false, sent explicitly
    assert made.status == "AVAILABLE" and custom_images(mock_emulator).count("备份-01") == 1
    assert mock_emulator.backend.instances[web].status == "RUNNING"
    assert made.stopped_at is not None and made.started_at is not None and made.stopped_at < made.started_at
    kinds = [(a.kind, a.outcome) for a in reversed(history)]
    assert kinds[0] == ("start", PLANNED) and ("stop", "done") in kinds and ("create", "available") in kinds
    assert kinds[-1] == ("start", "done") and history[0].request_id


async def test_force_stop_and_start_after_false_are_respected(mock_emulator):
    web = mock_emulator.backend.instance_named("web-hkg-01").instance_id
    async with client_for(mock_emulator) as client:
        made = await create_image_async(client, web, "left-off", stop_if_running=True, force_stop=True, start_after=False,
                                        poll_interval=0.1, sleep=fast)
        assert pending_restart(ledger_for(client), client, web) is None
    assert mock_emulator.stops == [True] and made.status == "AVAILABLE" and made.started_at is None
    assert mock_emulator.backend.instances[web].status == "STOPPED"


async def test_a_crash_after_the_image_is_available_still_starts_the_instance_on_the_next_run(mock_emulator):
    web = mock_emulator.backend.instance_named("web-hkg-01").instance_id
    async with client_for(mock_emulator) as client:
        import zenlayer_widgets.core.create_steps as create_module

        real = create_module.start_again

        async def crash(*args, **kwargs):
            raise KeyboardInterrupt  # the kernel dies after AVAILABLE, before the start

        create_module.start_again = crash
        try:
            with pytest.raises(KeyboardInterrupt):
                await create_image_async(client, web, "crashed", stop_if_running=True, poll_interval=0.1, sleep=fast)
        finally:
            create_module.start_again = real
        assert mock_emulator.backend.instances[web].status == "STOPPED"
        assert pending_restart(ledger_for(client), client, web) is not None
        again = await create_image_async(client, web, "crashed", stop_if_running=True, poll_interval=0.1, sleep=fast)
    assert again.status == "AVAILABLE" and again.started_at is not None and again.stopped_at is not None
    assert custom_images(mock_emulator).count("crashed") == 1  # never made twice
    assert mock_emulator.backend.instances[web].status == "RUNNING" and mock_emulator.stops == [False]


async def test_a_stopped_instance_with_another_blocker_is_never_stopped(mock_emulator):
    sin = next(i for i in mock_emulator.backend.instances.values() if i.zone_id in ("SIN-E", "LAX-A") and i.status == "RUNNING")
    async with client_for(mock_emulator) as client:
        with pytest.raises(PreflightFailed) as caught:
            await create_image_async(client, sin.instance_id, "nowhere", stop_if_running=True, poll_interval=0.1, sleep=fast)
    assert not isinstance(caught.value, InstanceRunning)
    assert mock_emulator.stops == [] and mock_emulator.backend.instances[sin.instance_id].status == "RUNNING"
