"""One sync story: the sync client owns its async counterpart, every ``*_async`` function takes
either client, every public coroutine function has a sync form, and ``run_sync`` still works in a
notebook (a running loop) and stops the work when the cell is interrupted."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import threading
import time

import httpx
import pytest

import zenlayer_widgets as zw
from zenlayer_widgets._runner import run_sync
from zenlayer_widgets.api import AsyncZenlayerClient, Credentials, ZenlayerClient
from zenlayer_widgets.emulator import mock_zenlayer, start_emulator


async def test_an_async_function_accepts_the_sync_client_connect_returns() -> None:
    client = zw.connect(sandbox=True)  # the shared sandbox: a real emulator server on loopback
    with client:
        inventory = await zw.load_inventory_async(client)
        listed = await client.async_client().list_instances()
        assert len(inventory.instances) == len(listed) > 0
        counterpart = client.async_client()
        assert counterpart.request_count > inventory.requests > 0  # the owned counterpart did the work
        again = await zw.preflight_async(client, inventory.instances.iloc[0]["instance_id"], "from-async")
        assert again.instance is not None and client.async_client() is counterpart  # kept, not rebuilt
    await asyncio.sleep(0.05)  # closed by a task on this loop (a sync close() cannot await here)
    assert client.closed and counterpart.closed


def test_the_counterpart_has_the_same_settings_and_transport_and_closes_with_the_client() -> None:
    seen: list[str] = []

    def reply(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["X-ZC-Action"])
        return httpx.Response(200, json={"requestId": "T1", "response": {"requestId": "T1", "zoneSet": []}})

    transport = httpx.MockTransport(reply)  # sync and async: shared
    with ZenlayerClient(Credentials("id", "pw"), base_url="http://127.0.0.1:9", api_version="2026-04-01", timeout=7,
                        max_throttle_retries=2, sandbox=True, transport=transport) as client:
        counterpart = run_sync(_counterpart_of(client))
        assert isinstance(counterpart, AsyncZenlayerClient)
        assert (counterpart.base_url, counterpart.api_version, counterpart.timeout, counterpart.sandbox) == (
            client.base_url, "2026-04-01", 7.0, True)
        assert counterpart.credentials is client.credentials and counterpart.retry_policy is client.retry_policy
        assert counterpart._transport is transport
        assert zw.load_inventory(client).zones == () and "DescribeZones" in seen
        assert run_sync(_counterpart_of(client)) is counterpart  # one per loop, kept
    assert counterpart.closed
    with pytest.raises(RuntimeError, match="closed"):
        run_sync(_counterpart_of(client))


async def _counterpart_of(client: ZenlayerClient) -> AsyncZenlayerClient:
    return client.async_client()


async def test_each_loop_gets_its_own_counterpart_and_close_closes_them_all(mock_emulator) -> None:
    client = mock_emulator.client()
    zw.load_inventory(client)  # on the background loop
    await zw.load_inventory_async(client)  # on this test's loop
    here = client.async_client()
    there = run_sync(_counterpart_of(client))
    assert here is not there
    client.close()
    await asyncio.sleep(0.05)  # this loop's counterpart is closed by a task scheduled on it
    assert here.closed and there.closed


def test_a_sync_only_transport_is_refused_with_a_clear_error_not_dropped() -> None:
    real = httpx.HTTPTransport()  # sync only: has no handle_async_request
    with start_emulator() as server, ZenlayerClient(
        Credentials(access_key_id=server.access_key_id, access_key_password=server.access_key_password),
        base_url=server.url, transport=real,
    ) as client:
        assert client.describe_zones()  # the client's own methods use it
        with pytest.raises(TypeError, match="sync-only.*AsyncBaseTransport"):
            zw.load_inventory(client)
        with pytest.raises(TypeError, match="sync-only"):
            client.to_async()


def test_no_process_wide_twin_cache_is_left() -> None:
    import zenlayer_widgets.core.sync as sync

    assert not hasattr(sync, "async_twin") and not hasattr(sync, "run_on_twin")
    assert not hasattr(ZenlayerClient, "_async_twins")
    import zenlayer_widgets.connection as connection

    assert not hasattr(connection, "async_twin")


def test_every_public_coroutine_function_has_an_exported_sync_form() -> None:
    exported = {name: getattr(zw, name) for name in zw.__all__ if not name[0].isupper() and name != "__version__"}
    coroutines = {name for name, value in exported.items() if inspect.iscoroutinefunction(value)}
    assert {"load_inventory_async", "preflight_async", "create_image_async", "wait_for_image_async",
            "stop_instance_async", "wait_for_power_state_async"} <= coroutines
    for name in coroutines:
        assert name.endswith("_async"), name
        sync_form = exported.get(name[: -len("_async")])
        assert sync_form is not None, f"{name} has no sync form in zenlayer_widgets"
        assert not inspect.iscoroutinefunction(sync_form), name
        assert list(inspect.signature(sync_form).parameters)[:2] == list(inspect.signature(exported[name]).parameters)[:2]


def test_the_timeout_advice_names_functions_that_exist_and_following_it_works() -> None:
    with mock_zenlayer(transition_seconds=3600) as slow, slow.client() as client:
        build = slow.backend.instance_named("build-hkg-01").instance_id
        with pytest.raises(zw.ImageWaitTimeout) as timed_out:
            zw.create_image(client, build, "advised", timeout=0.2, poll_interval=0.1)
        message = str(timed_out.value)
        for named in ("wait_for_image(", "wait_for_image_async("):
            assert f"zenlayer_widgets.{named}" in message
        assert callable(zw.wait_for_image) and inspect.iscoroutinefunction(zw.wait_for_image_async)
        slow.backend.advance(3600)
        done = zw.wait_for_image(client, timed_out.value.progress, timeout=5, poll_interval=0.1)
        assert done.status == "AVAILABLE" and done.image_id == timed_out.value.image_id


def test_stop_instance_has_a_sync_form(mock_emulator) -> None:
    web = mock_emulator.backend.instance_named("web-hkg-01")
    assert web.status == "RUNNING"
    seen: list[str] = []
    mock_emulator.backend.transition_seconds = 3600  # STOPPING until the caller has seen it (then the clock moves)

    def on_status(status: str) -> None:
        seen.append(status)
        if status == "STOPPING":
            mock_emulator.backend.advance(3600)

    with mock_emulator.client() as client:
        assert zw.stop_instance(client, web.instance_id, poll_interval=0.1, on_status=on_status) == "STOPPED"
        assert zw.wait_for_power_state(client, web.instance_id, "STOPPED", timeout=1) == "STOPPED"
    assert "STOPPING" in seen and mock_emulator.backend.instances[web.instance_id].status == "STOPPED"


async def test_a_sync_form_works_inside_a_running_loop_as_in_a_notebook(mock_emulator) -> None:
    with mock_emulator.client() as client:
        asyncio.get_running_loop()  # a notebook cell: a loop is running in this thread
        inventory = zw.load_inventory(client)
    assert len(inventory.instances) == len(mock_emulator.backend.instances)


def test_an_interrupted_sync_call_cancels_the_work() -> None:
    assert threading.current_thread() is threading.main_thread()  # where an interrupt lands, as in a kernel
    cancelled = threading.Event()

    async def long_work() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))  # what Jupyter sends on Interrupt
    timer.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_sync(long_work())
    assert time.monotonic() - started < 5
    assert cancelled.wait(5), "the coroutine kept running after the interrupt"
