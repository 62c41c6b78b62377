"""Several worker processes share one rotation run on a real PostgreSQL ledger (issue 22, item 5): each (account,
zone) unit is done once, a SIGKILLed worker's unit is taken over within a minute without a second image, and the
ledger's token bucket keeps four workers under the account's rate limit."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

from shared import account_for
from zenlayer_widgets.core.fleet.units import DONE, find_run, units
from zenlayer_widgets.core.ledger import Ledger
from zenlayer_widgets.core.policy import owned_images
from zenlayer_widgets.rules import CREATING

from .conftest import fleet_ids


def _run_units(ledger: Ledger, account: str) -> list:
    run = find_run(ledger, account, "nightly", "finished:" + _only_run_id(ledger))
    assert run is not None and run.outcome == "ok"
    return units(ledger, run.fleet_id)


def _only_run_id(ledger: Ledger) -> str:
    from zenlayer_widgets.core.ledger import schema

    rows = ledger._read(schema.fleet_runs.select())
    assert len(rows) == 1, rows  # one shared run, whichever worker began it
    return rows[0].fleet_id


def _new_images(emulator, ids: list[str]) -> Counter:
    """How many custom images named ``nightly-...`` each instance has (its source)."""
    return Counter(i.source_instance_id for i in emulator.backend.images.values()
                   if i.image_name.startswith("nightly-") and i.source_instance_id in ids)


def test_two_workers_share_one_run_and_each_unit_is_done_once(fleet_emulator, spawn, pg_url):
    ids = fleet_ids(fleet_emulator, per_zone=2)
    zones = {fleet_emulator.backend.instances[i].zone_id for i in ids}
    workers = [spawn(pg_url, ids, max_parallel=2) for _ in range(2)]
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, out + err
    ledger = Ledger(pg_url)
    done = _run_units(ledger, account_for(fleet_emulator))
    assert {u.zone_id for u in done} == zones and all(u.state == DONE and u.attempts == 1 for u in done)
    assert {u.owner_pid for u in done} == {w.pid for w in workers}  # both did some of the run
    assert _new_images(fleet_emulator, ids) == Counter({i: 1 for i in ids})  # one image per instance, not two
    assert len(ledger.entries()) == len(ids)  # one create intent each


def test_a_sigkilled_workers_unit_is_taken_over_within_a_minute_and_no_image_is_made_twice(fleet_emulator, spawn, pg_url):
    ids = fleet_ids(fleet_emulator, per_zone=2)
    doomed = spawn(pg_url, ids, max_parallel=1)
    deadline = time.monotonic() + 120
    while not any(i.status == CREATING for i in fleet_emulator.backend.images.values()):  # mid-unit: an image being made
        assert doomed.poll() is None and time.monotonic() < deadline, doomed.communicate()
        time.sleep(0.05)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=30)
    killed_at = time.monotonic()
    ledger = Ledger(pg_url)
    account = account_for(fleet_emulator)
    (held,) = [u for u in units(ledger, _only_run_id(ledger)) if u.state == "working"]
    assert held.owner_pid == doomed.pid
    rescuer = spawn(pg_url, ids, max_parallel=2)
    taken_at = None
    while rescuer.poll() is None:
        unit = next(u for u in units(ledger, held.fleet_id) if u.zone_id == held.zone_id)
        if taken_at is None and unit.owner_pid == rescuer.pid:
            taken_at = time.monotonic()
        assert time.monotonic() - killed_at < 240
        time.sleep(0.1)
    out, err = rescuer.communicate()
    assert rescuer.returncode == 0, out + err
    unit = next(u for u in _run_units(ledger, account) if u.zone_id == held.zone_id)
    assert unit.state == DONE and unit.attempts == 2 and unit.owner_pid == rescuer.pid
    assert taken_at is not None and taken_at - killed_at < 60
    assert _new_images(fleet_emulator, ids) == Counter({i: 1 for i in ids})  # the killed create was finished, not redone
    owned = owned_images(ledger, account, "nightly")
    assert {o.instance_id for o in owned.values()} == set(ids) and len(owned) == len(ids)


def test_the_shared_bucket_keeps_four_workers_under_the_accounts_rate_limit(fleet_emulator, spawn, pg_url):
    fleet_emulator.conditions.rate_limit = 12  # the account's limit: 12 requests per second
    ids = fleet_ids(fleet_emulator, per_zone=2)
    before = fleet_emulator.conditions.rate_limited
    workers = [spawn(pg_url, ids, max_parallel=3, rate=10) for _ in range(4)]  # 4 x 3 zones, polling every 0.1 s
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, out + err
    assert fleet_emulator.conditions.rate_limited - before == 0  # not one 429: the workers paced themselves together
    assert _new_images(fleet_emulator, ids) == Counter({i: 1 for i in ids})
    ledger = Ledger(pg_url)
    assert all(u.state == DONE for u in _run_units(ledger, account_for(fleet_emulator)))
