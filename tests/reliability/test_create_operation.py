"""A create with stop_if_running is one durable operation: a kernel SIGKILLed between the stop and the create
leaves it unfinished in the ledger, and the re-run finishes that same operation (one image, one stop, the
instance RUNNING again)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading

from shared import ids_by_name
from zenlayer_widgets.core.create import create_image_async
from zenlayer_widgets.core.ledger import Ledger, account_of
from zenlayer_widgets.core.operations import SUCCEEDED, store
from zenlayer_widgets.core.restart import pending_restart
from zenlayer_widgets.emulator import start_emulator

from .helpers import async_client, custom_images_named, fast_sleep

KERNEL = """
import sys
import zenlayer_widgets as zw
zw.create_image(zw.connect(), sys.argv[1], sys.argv[2], stop_if_running=True, poll_interval=0.1)
"""


def test_a_kill_between_the_stop_and_the_create_is_finished_by_the_rerun_as_the_same_operation(tmp_path):
    ledger_path = tmp_path / "ledger.sqlite3"
    with start_emulator(transition_seconds=0.3) as emulator:
        backend, web = emulator.backend, ids_by_name(emulator)["web-hkg-01"]
        stopped, release, stops = threading.Event(), threading.Event(), []
        original = backend.stop_instances

        def stop_then_hang(instance_ids, force_shutdown=True):  # noqa: ANN001, ANN202
            stops.append(list(instance_ids))
            result = original(instance_ids, force_shutdown)
            stopped.set()  # the stop is applied; the kernel never hears back
            release.wait(60)
            return result

        backend.stop_instances = stop_then_hang
        env = {**os.environ, "ZENLAYER_ACCESS_KEY_ID": emulator.access_key_id,
               "ZENLAYER_ACCESS_KEY_PASSWORD": emulator.access_key_password, "ZENLAYER_BASE_URL": emulator.url,
               "ZENLAYER_JOURNAL": str(ledger_path), "HOME": str(tmp_path)}
        child = subprocess.Popen([sys.executable, "-c", KERNEL, web, "after-a-kill"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert stopped.wait(60), child.stderr.read() if child.poll() is not None else "the stop never came"
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        finally:
            release.set()
        assert child.returncode == -signal.SIGKILL and custom_images_named(backend, "after-a-kill") == []
        ledger = Ledger(ledger_path)

        async def rerun():  # noqa: ANN202
            async with async_client(emulator) as client:
                [left] = store.operations(ledger, account_of(client), kind="create", unfinished_only=True)
                assert pending_restart(ledger, client, web) is not None  # the start is owed
                result = await create_image_async(client, web, "after-a-kill", stop_if_running=True, poll_interval=0.1,
                                                  sleep=fast_sleep, ledger=ledger)
                return left, result, store.operations(ledger, account_of(client), kind="create")

        left, result, operations = asyncio.run(rerun())
        status = backend.instances[web].status
        images = custom_images_named(backend, "after-a-kill")
    assert images == [result.image_id] and result.status == "AVAILABLE"
    assert status == "RUNNING" and result.started_at is not None
    assert stops == [[web]]  # one stop: the re-run saw the instance STOPPING/STOPPED and sent none
    [operation] = operations
    assert operation.operation_id == left.operation_id and operation.outcome == SUCCEEDED
    assert [(s.kind, s.state) for s in operation.steps] == [("stop_for_image", "done"), ("make_image", "done"),
                                                          ("follow_image", "done"), ("start_owed", "done")]
