"""SIGKILL a verify, a launch and a restore at each of their steps (the request applied, its answer never read;
or while booting / probing), then run the same call again: it finishes the same operation without sending the
cut-off step again, with exactly one instance per intent, one ResetInstance, and 0 throwaways left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import zenlayer_widgets as zw
from shared import credentials_for
from zenlayer_widgets.api.client import AsyncZenlayerClient
from zenlayer_widgets.core.ledger import Ledger
from zenlayer_widgets.core.ledger.engine import sqlite_file_url
from zenlayer_widgets.core.operations import SUCCEEDED, store
from zenlayer_widgets.emulator import start_emulator

from .helpers import FAST_RETRIES, Applied, Held, custom_image, fast_sleep, instance_in, throwaways_in, throwaways_listed

CHILD = Path(__file__).with_name("child.py")
PASSWORD = "Pass-word-123"


def wait_for(condition: Callable[[], bool], child: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if child.poll() is not None:
            raise AssertionError(f"the child ended before {what}: {child.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.02)


def step_done(ledger_url: str, kind: str) -> Callable[[], bool]:
    def check() -> bool:
        operations = store.operations(Ledger(ledger_url))
        return any(s.kind == kind and s.state == "done" for o in operations for s in o.steps)
    return check


def run_and_kill(emulator, ledger_url: str, call: dict, hold: str | None, until: Callable[[], bool] | None) -> None:  # noqa: ANN001
    held = Held(emulator.backend, hold) if hold else None
    child = subprocess.Popen([sys.executable, str(CHILD), emulator.url, emulator.access_key_id,
                              emulator.access_key_password, ledger_url, json.dumps(call)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(held.applied.is_set if held else until, child, f"reaching the kill point ({hold or 'condition'})")  # type: ignore[arg-type]
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if held:
            held.released.set()


def rerun_client(emulator) -> AsyncZenlayerClient:  # noqa: ANN001
    client = AsyncZenlayerClient(credentials_for(emulator), base_url=emulator.url, timeout=0.5)
    client.retry_policy = FAST_RETRIES
    return client


@pytest.fixture
def slow_boot(monkeypatch):  # noqa: ANN001, ANN201
    from zenlayer_widgets.core import reconcile

    monkeypatch.setattr(reconcile, "SETTLE_MARGIN_SECONDS", 0.3)


VERIFY_KILLS = {  # kill point: (backend method held, or a condition on the ledger / a file)
    "launch sent": "create_instances",
    "booting": "booting",
    "probing": "probing",
    "terminate sent": "terminate_instance",
    "release sent": "release_instances",
}


@pytest.mark.parametrize("point", list(VERIFY_KILLS))
async def test_verify_killed_at_each_step_is_finished_by_the_next_run(tmp_path, point: str, slow_boot) -> None:  # noqa: ANN001
    ledger_url = sqlite_file_url(tmp_path / "ledger.sqlite3")
    with start_emulator(transition_seconds=0.05) as emulator:
        backend = emulator.backend
        image = custom_image(backend)
        launches = Applied()
        launches.wrap(backend, "create_instances")
        call: dict = {"what": "verify", "image_id": image.image_id}
        hold = VERIFY_KILLS[point]
        until = None
        if point == "booting":
            backend.transition_seconds = 3600  # it stays PENDING until the test moves the clock
            until, hold = step_done(ledger_url, "launch"), None
        elif point == "probing":
            flag = tmp_path / "probing"
            call["probe_file"] = str(flag)
            until, hold = flag.exists, None
        run_and_kill(emulator, ledger_url, call, hold, until)
        if point == "booting":
            backend.transition_seconds = 0.05
            backend.advance(7200)
        ledger = Ledger(ledger_url)
        [left] = store.operations(ledger, kind="verify")
        assert not left.finished
        async with rerun_client(emulator) as client:
            result = await zw.verify_image_async(client, image.image_id, ledger=ledger, sleep=fast_sleep,
                                                 poll_interval=0.1)
            assert result.operation_id == left.operation_id and result.booted
            assert launches.counts["create_instances"] == 1
            assert throwaways_in(backend) == [] and await throwaways_listed(client) == []


@pytest.mark.parametrize("point", ["launch sent", "booting"])
async def test_launch_killed_at_each_step_makes_one_instance(tmp_path, point: str, slow_boot) -> None:  # noqa: ANN001
    ledger_url = sqlite_file_url(tmp_path / "ledger.sqlite3")
    with start_emulator(transition_seconds=0.05) as emulator:
        backend = emulator.backend
        image = custom_image(backend)
        like = instance_in(backend, image.zone_id)
        launches = Applied()
        launches.wrap(backend, "create_instances")
        call = {"what": "launch", "image_id": image.image_id, "like": like.instance_id, "name": "copy-1",
                "options": {"password": PASSWORD}}
        if point == "booting":
            backend.transition_seconds = 3600
            run_and_kill(emulator, ledger_url, call, None, step_done(ledger_url, "launch"))
            backend.transition_seconds = 0.05
            backend.advance(7200)
        else:
            run_and_kill(emulator, ledger_url, call, "create_instances", None)
        ledger = Ledger(ledger_url)
        async with rerun_client(emulator) as client:
            result = await zw.launch_from_image_async(client, image.image_id, like=like.instance_id, name="copy-1",
                                                      password=PASSWORD, ledger=ledger, sleep=fast_sleep,
                                                      poll_interval=0.1)
        assert launches.counts["create_instances"] == 1
        assert [r.instance_id for r in backend.instances.values() if r.instance_name == "copy-1"] == [result.instance_id]
        assert backend.instances[result.instance_id].status == "RUNNING"


RESTORE_KILLS = {"stop sent": "stop_instances", "image sent": "create_image", "reset sent": "reset_instance",
                 "rebuilding": "rebuilding"}


def advance_once_adopted(backend, ledger_url: str, stop: threading.Event) -> None:  # noqa: ANN001
    """The killed create left the instance IMAGING (the evidence the re-run needs, as on the real API); once the
    re-run's intent holds the image, the clock jumps so the image is AVAILABLE and the instance STOPPED."""
    while not stop.wait(0.02):
        if any(e.image_id for e in Ledger(ledger_url).entries()):
            backend.transition_seconds = 0.05
            backend.advance(7200)
            return


@pytest.mark.parametrize("point", list(RESTORE_KILLS))
async def test_restore_killed_at_each_step_resets_once(tmp_path, point: str, slow_boot) -> None:  # noqa: ANN001
    ledger_url = sqlite_file_url(tmp_path / "ledger.sqlite3")
    with start_emulator(transition_seconds=0.05) as emulator:
        backend = emulator.backend
        image = custom_image(backend)
        # the image step is killed on a STOPPED instance whose imaging takes an hour (the evidence stays visible)
        instance = instance_in(backend, image.zone_id, "STOPPED" if point == "image sent" else "RUNNING")
        applied = Applied()
        for name in ("reset_instance", "stop_instances", "create_image"):
            applied.wrap(backend, name)
        call = {"what": "restore", "instance_id": instance.instance_id, "image_id": image.image_id,
                "confirm": instance.instance_name, "options": {"password": PASSWORD, "stop": True}}
        watcher_stop = threading.Event()
        watcher = None
        if point == "rebuilding":  # the rebuild takes an hour: killed while waiting for RUNNING
            Applied().wrap(backend, "reset_instance", lambda *_a, **_k: setattr(backend, "transition_seconds", 3600))
            run_and_kill(emulator, ledger_url, call, None, step_done(ledger_url, "reset"))
            backend.transition_seconds = 0.05
            backend.advance(7200)
        elif point == "image sent":
            backend.transition_seconds = 3600
            run_and_kill(emulator, ledger_url, call, "create_image", None)
            watcher = threading.Thread(target=advance_once_adopted, args=(backend, ledger_url, watcher_stop))
            watcher.start()
        else:
            run_and_kill(emulator, ledger_url, call, RESTORE_KILLS[point], None)
        ledger = Ledger(ledger_url)
        [left] = store.operations(ledger, kind="restore")
        try:
            async with rerun_client(emulator) as client:
                result = await zw.restore_instance_async(
                    client, instance.instance_id, image.image_id, confirm=instance.instance_name, stop=True,
                    password=PASSWORD, ledger=ledger, sleep=fast_sleep, poll_interval=0.1)
        finally:
            watcher_stop.set()
            if watcher is not None:
                watcher.join(10)
        assert result.operation_id == left.operation_id
        assert store.get(ledger, left.operation_id).outcome == SUCCEEDED  # type: ignore[union-attr]
        stops = {} if point == "image sent" else {"stop_instances": 1}
        assert applied.counts == {**stops, "create_image": 1, "reset_instance": 1}
        after = backend.instances[instance.instance_id]
        assert after.status == "RUNNING" and after.image_id == image.image_id
