"""The durable-operation engine on generic steps (stop, wait, start, delete) against the in-process emulator,
on a SQLite file and on PostgreSQL: the plan is written before anything is sent, a lost answer is reconciled
on evidence and never sent again blind, a stale owner is taken over and a live one is not."""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import datetime, timedelta, timezone

import pytest

from zenlayer_widgets.core.ledger import Ledger, schema
from zenlayer_widgets.core.ledger.ownership import owner_fields
from zenlayer_widgets.core.ledger.records import now_text
from zenlayer_widgets.core.operations import (
    DONE,
    LEASE_SECONDS,
    OPERATION_FAILED,
    PLANNED,
    SENT,
    SKIPPED,
    SUCCEEDED,
    Driver,
    LeaseLost,
    OperationBusy,
    StepOutcomeUnknown,
    StepPlan,
    store,
)

from .helpers import Applied, fast_sleep, running_instance


def stop_start_plan(instance_id: str) -> list[StepPlan]:
    return [StepPlan("stop", {"instance_id": instance_id}),
            StepPlan("wait_status", {"instance_id": instance_id, "status": "STOPPED", "passing": ["STOPPING"]}),
            StepPlan("start", {"instance_id": instance_id}),
            StepPlan("wait_status", {"instance_id": instance_id, "status": "RUNNING", "passing": ["BOOTING"]})]


def driver_for(mock_emulator, ledger: Ledger, **options) -> Driver:  # noqa: ANN001, ANN003
    return Driver(mock_emulator.async_client(), ledger, "acct", sleep=fast_sleep, extras={"poll": 0.01}, **options)


async def test_the_plan_is_in_the_ledger_before_the_first_request(mock_emulator, ledger_url) -> None:
    ledger = Ledger(ledger_url)
    instance = running_instance(mock_emulator.backend)
    seen: list[tuple[str, ...]] = []

    def before_stop(*_args, **_kwargs) -> None:  # noqa: ANN002, ANN003
        [operation] = store.operations(ledger, "acct")
        seen.append(tuple(step.state for step in operation.steps))

    applied = Applied()
    applied.wrap(mock_emulator.backend, "stop_instances", before_stop)
    done = await driver_for(mock_emulator, ledger).run("restart", f"restart:{instance.instance_id}",
                                                       lambda: stop_start_plan(instance.instance_id))
    assert seen == [(SENT, PLANNED, PLANNED, PLANNED)]  # the whole plan, the stop marked sent, before StopInstances
    assert done.outcome == SUCCEEDED and [s.state for s in done.steps] == [DONE] * 4
    assert mock_emulator.backend.instances[instance.instance_id].status == "RUNNING"


async def test_a_lost_answer_is_reconciled_on_evidence_not_sent_again(mock_emulator, ledger_url) -> None:
    ledger = Ledger(ledger_url)
    instance = running_instance(mock_emulator.backend)
    applied = Applied()
    applied.wrap(mock_emulator.backend, "stop_instances")
    mock_emulator.set_faults(["StopInstances:lost_response:1"])
    done = await driver_for(mock_emulator, ledger, settle=60.0).run(
        "stop", f"stop:{instance.instance_id}", lambda: stop_start_plan(instance.instance_id)[:2])
    assert done.outcome == SUCCEEDED
    assert applied.counts["stop_instances"] == 1
    assert done.steps[0].attempts == 1 and done.steps[0].evidence["status"] in ("STOPPING", "STOPPED")


async def test_a_request_proven_not_landed_is_sent_again(mock_emulator, ledger_url) -> None:
    """A 500 (not applied by the emulator) is an unknown outcome for the client; the evidence (still RUNNING once
    the settle window is over) proves it did not land, so it goes again: one stop applied, two attempts."""
    ledger = Ledger(ledger_url)
    instance = running_instance(mock_emulator.backend)
    applied = Applied()
    applied.wrap(mock_emulator.backend, "stop_instances")
    mock_emulator.set_faults(["StopInstances:error:1"])

    async def no_fault_after_first(seconds: float) -> None:
        mock_emulator.set_faults([])
        await fast_sleep(seconds)

    driver = Driver(mock_emulator.async_client(), ledger, "acct", sleep=no_fault_after_first, extras={"poll": 0.01},
                    settle=0.0)
    done = await driver.run("stop", f"stop:{instance.instance_id}", lambda: stop_start_plan(instance.instance_id)[:2])
    assert done.outcome == SUCCEEDED and applied.counts["stop_instances"] == 1
    assert done.steps[0].attempts == 2 and done.steps[0].evidence["status"] == "RUNNING"


async def test_an_undecided_step_is_never_sent_blind_and_the_next_run_finishes_it(mock_emulator, ledger_url) -> None:
    """The stop lands late (after the client gave up); while the settle window is open and nothing shows it landed,
    the run stops with StepOutcomeUnknown and sends nothing more. The next run sees the evidence: done, one stop."""
    ledger = Ledger(ledger_url)
    backend = mock_emulator.backend
    backend.late_seconds = 0.5
    instance = running_instance(backend)
    applied = Applied()
    applied.wrap(backend, "stop_instances")
    mock_emulator.set_faults(["StopInstances:late:1"])
    key = f"stop:{instance.instance_id}"
    clock = iter(range(0, 10**9, 20_000)).__next__  # every look is 20000 s later: the budget runs out at once
    with pytest.raises(StepOutcomeUnknown) as raised:
        await driver_for(mock_emulator, ledger, settle=3600.0, clock=clock).run(
            key, key, lambda: stop_start_plan(instance.instance_id)[:2])
    assert "Nothing was sent again" in str(raised.value)
    left = store.unfinished(ledger, "acct", key)
    assert left is not None and left.steps[0].state == SENT and applied.counts["stop_instances"] == 0
    mock_emulator.set_faults([])
    backend.land_late_requests()
    assert applied.counts["stop_instances"] == 1
    done = await driver_for(mock_emulator, ledger, settle=3600.0).run(key, key, lambda: [])
    assert done.operation_id == left.operation_id and done.outcome == SUCCEEDED
    assert applied.counts["stop_instances"] == 1 and done.steps[0].attempts == 1


@pytest.mark.parametrize("gone", ["its process is dead on this host", "its heartbeat is older than the lease"])
async def test_a_stale_owner_is_taken_over_and_a_live_one_is_not(mock_emulator, ledger_url, gone: str) -> None:
    ledger = Ledger(ledger_url)
    instance = running_instance(mock_emulator.backend)
    key = f"stop:{instance.instance_id}"
    plan = stop_start_plan(instance.instance_id)[:2]
    other = "f" * 32  # an owner token of another process
    operation = store.begin(ledger, "acct", "stop", key, plan, owner=other)
    t = schema.operations.c
    # alive elsewhere (another host, a fresh heartbeat): busy, nothing sent
    ledger._write(schema.operations.update().where(t.operation_id == operation.operation_id)
                  .values(**{**owner_fields(other), "owner_host": "elsewhere"}))
    with pytest.raises(OperationBusy, match="sent nothing"):
        await driver_for(mock_emulator, ledger).run("stop", key, lambda: plan)
    assert mock_emulator.backend.instances[instance.instance_id].status == "RUNNING"
    if gone == "its process is dead on this host":
        stale = {"owner_host": socket.gethostname(), "owner_pid": _dead_pid()}
    else:
        stale = {"heartbeat_at": now_text(datetime.now(timezone.utc) - timedelta(seconds=LEASE_SECONDS + 5))}
    ledger._write(schema.operations.update().where(t.operation_id == operation.operation_id).values(**stale))
    done = await driver_for(mock_emulator, ledger).run("stop", key, lambda: plan)
    assert done.operation_id == operation.operation_id and done.outcome == SUCCEEDED
    assert len(store.operations(ledger)) == 1


async def test_after_a_failed_step_only_the_clean_ups_run(mock_emulator, ledger_url) -> None:
    ledger = Ledger(ledger_url)
    instance = running_instance(mock_emulator.backend)
    plan = [StepPlan("start", {"instance_id": "no-such-instance"}),
            StepPlan("stop", {"instance_id": instance.instance_id}),
            StepPlan("stop", {"instance_id": instance.instance_id}, always=True)]
    done = await driver_for(mock_emulator, ledger).run("x", "x", lambda: plan)
    assert done.outcome == OPERATION_FAILED and done.error_type is not None
    assert [s.state for s in done.steps] == ["failed", SKIPPED, DONE]


def _dead_pid() -> int:
    pid = 2**22 - 1
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except OSError:
            pass
        pid -= 1


async def test_a_run_whose_operation_was_taken_over_sends_nothing_more(mock_emulator, ledger_url) -> None:
    """The fence: another run takes the operation over while this one's stop is in flight; every later write of this
    run fails (LeaseLost) and its start is never sent."""
    ledger = Ledger(ledger_url)
    instance = running_instance(mock_emulator.backend)
    t = schema.operations.c

    def taken_over(*_args, **_kwargs) -> None:  # noqa: ANN002, ANN003
        ledger._write(schema.operations.update().where(t.finished_at.is_(None)).values(owner="e" * 32))

    applied = Applied()
    applied.wrap(mock_emulator.backend, "stop_instances", taken_over)
    applied.wrap(mock_emulator.backend, "start_instances")
    with pytest.raises(LeaseLost):
        await driver_for(mock_emulator, ledger).run("restart", "restart", lambda: stop_start_plan(instance.instance_id))
    assert applied.counts == {"stop_instances": 1}
    [operation] = store.operations(ledger)
    assert not operation.finished and operation.steps[0].state == SENT  # the next run settles it on evidence


async def test_the_owner_heartbeats_while_a_step_takes_long(mock_emulator, ledger_url) -> None:
    ledger = Ledger(ledger_url)
    instance = running_instance(mock_emulator.backend)
    beats: set[str] = set()

    async def watching_sleep(seconds: float) -> None:
        [operation] = store.operations(ledger)
        beats.add(str(operation.heartbeat_at))
        await asyncio.sleep(0.02)

    mock_emulator.backend.transition_seconds = 0.5  # the stop takes half a second: ten heartbeats
    driver = Driver(mock_emulator.async_client(), ledger, "acct", sleep=watching_sleep, extras={"poll": 0.02},
                    heartbeat_seconds=0.05)
    done = await driver.run("stop", "stop", lambda: stop_start_plan(instance.instance_id)[:2])
    assert done.outcome == SUCCEEDED and len(beats) >= 3
