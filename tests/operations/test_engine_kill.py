"""A process running an operation is SIGKILLed right after a step was applied (its answer never read); the next
run takes the dead owner's operation over, sees on evidence that the step landed, and finishes it without
sending that step again. On a SQLite file and on PostgreSQL, against a real emulator server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from shared import credentials_for
from zenlayer_widgets.api.client import AsyncZenlayerClient
from zenlayer_widgets.core.ledger import Ledger
from zenlayer_widgets.core.operations import DONE, SENT, SUCCEEDED, Driver, store
from zenlayer_widgets.emulator import start_emulator

from .helpers import Applied, Held, fast_sleep, running_instance

CHILD = textwrap.dedent("""
    import asyncio, sys
    from zenlayer_widgets.api.client import AsyncZenlayerClient
    from zenlayer_widgets.api.credentials import Credentials
    from zenlayer_widgets.core.ledger import Ledger
    from zenlayer_widgets.core.operations import Driver, StepPlan
    url, key_id, password, ledger_url, instance_id = sys.argv[1:6]
    plan = [StepPlan("stop", {"instance_id": instance_id}),
            StepPlan("wait_status", {"instance_id": instance_id, "status": "STOPPED", "passing": ["STOPPING"]}),
            StepPlan("start", {"instance_id": instance_id}),
            StepPlan("wait_status", {"instance_id": instance_id, "status": "RUNNING", "passing": ["BOOTING"]})]
    async def main():
        async with AsyncZenlayerClient(Credentials(access_key_id=key_id, access_key_password=password),
                                       base_url=url) as client:
            driver = Driver(client, Ledger(ledger_url), "acct", extras={"poll": 0.05})
            await driver.run("restart", "restart:" + instance_id, lambda: plan)
    asyncio.run(main())
""")


@pytest.mark.parametrize("killed_at", ["stop_instances", "start_instances"])
async def test_a_run_killed_after_a_step_landed_is_finished_by_the_next_without_sending_it_again(
        ledger_url: str, killed_at: str) -> None:
    with start_emulator(transition_seconds=0.2) as emulator:
        backend = emulator.backend
        instance = running_instance(backend)
        applied = Applied()
        applied.wrap(backend, "stop_instances")
        applied.wrap(backend, "start_instances")
        held = Held(backend, killed_at)
        credentials = credentials_for(emulator)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, emulator.url, credentials.access_key_id, emulator.access_key_password,
             ledger_url, instance.instance_id], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert held.applied.wait(60), child.stderr.read().decode() if child.poll() is not None else "not applied"
            os.kill(child.pid, signal.SIGKILL)
            child.wait(30)
        finally:
            held.released.set()
        ledger = Ledger(ledger_url)
        key = f"restart:{instance.instance_id}"
        left = store.unfinished(ledger, "acct", key)
        at = 0 if killed_at == "stop_instances" else 2
        assert left is not None and left.steps[at].state == SENT  # sent, its answer never read
        async with AsyncZenlayerClient(credentials, base_url=emulator.url) as client:
            # the dead child's pid is gone from this host: its lease need not run out first
            done = await Driver(client, ledger, "acct", sleep=fast_sleep, extras={"poll": 0.02}).run(
                "restart", key, lambda: [])
        assert done.operation_id == left.operation_id and done.outcome == SUCCEEDED
        assert [s.state for s in done.steps] == [DONE] * 4
        assert applied.counts == {"stop_instances": 1, "start_instances": 1}
        assert backend.instances[instance.instance_id].status == "RUNNING"
