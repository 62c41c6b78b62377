"""Claiming units on PostgreSQL (core/fleet/units.py): a claim is exclusive, a unit held by a live worker is left
alone, and one whose worker on another machine stopped heartbeating is taken over once the lease has passed."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from zenlayer_widgets.core.fleet import units as store
from zenlayer_widgets.core.ledger import Ledger, schema
from zenlayer_widgets.core.ledger.ownership import live_owners, new_owner
from zenlayer_widgets.core.ledger.records import now_text
from zenlayer_widgets.core.policy.lease import LEASE_SECONDS

ZONES = [f"Z{n:02d}" for n in range(8)]


def _fleet(pg_url: str) -> tuple[Ledger, str]:
    ledger = Ledger(pg_url)
    run, began = store.open_run(ledger, "acct", "nightly", store.UNFINISHED_KEY, ZONES)
    assert began and store.open_run(ledger, "acct", "nightly", store.UNFINISHED_KEY, ["other"]) == (run, False)
    return ledger, run.fleet_id


def test_concurrent_claims_never_take_one_unit_twice(pg_url):
    ledger, fleet_id = _fleet(pg_url)
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer() -> None:
        mine = Ledger(pg_url)  # its own engine and connections, as another worker's
        while True:
            owner = new_owner()
            live_owners.add(owner)  # this process's workers are at work until their unit ends
            unit = store.claim_unit(mine, fleet_id, owner)
            if unit is None:
                live_owners.discard(owner)
                if not [u for u in store.units(mine, fleet_id) if u.state == store.WAITING]:
                    return
                continue
            with lock:
                claimed.append(unit.zone_id)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == ZONES  # each unit once
    assert all(u.state == store.WORKING and u.attempts == 1 for u in store.units(ledger, fleet_id))


def _elsewhere(ledger: Ledger, fleet_id: str, zone: str, seconds_ago: float) -> None:
    """Make ``zone``'s unit held by a worker on another machine whose last heartbeat was ``seconds_ago``."""
    t = schema.fleet_units.c
    beat = now_text(datetime.now(timezone.utc) - timedelta(seconds=seconds_ago))
    ledger._write(schema.fleet_units.update().where(t.fleet_id == fleet_id, t.zone_id == zone).values(
        state=store.WORKING, attempts=1, owner="f" * 32, owner_host="another-machine", owner_pid=4242,
        owner_process="boot/ns/1.00", heartbeat_at=beat))


def test_a_unit_of_a_silent_worker_on_another_machine_is_taken_over_after_the_lease(pg_url):
    ledger, fleet_id = _fleet(pg_url)
    _elsewhere(ledger, fleet_id, "Z00", seconds_ago=LEASE_SECONDS / 3)  # alive: heartbeats every 5 s
    assert store.claim_unit(ledger, fleet_id, new_owner(), "Z00") is None
    _elsewhere(ledger, fleet_id, "Z00", seconds_ago=LEASE_SECONDS + 1)  # silent past the lease: gone
    owner = new_owner()
    taken = store.claim_unit(ledger, fleet_id, owner, "Z00")
    assert taken is not None and taken.owner == owner and taken.attempts == 2
    assert not store.beat(ledger, store.Unit(**{**taken.__dict__, "owner": "f" * 32}))  # the old owner is fenced off
    assert store.finish_unit(ledger, taken, store.DONE, store.OK, "done")


def test_the_run_finishes_when_its_last_unit_does_and_the_next_firing_begins_a_new_one(pg_url):
    ledger, fleet_id = _fleet(pg_url)
    for zone in ZONES:
        owner = new_owner()
        live_owners.add(owner)
        unit = store.claim_unit(ledger, fleet_id, owner, zone)
        assert unit is not None
        assert store.get_run(ledger, fleet_id).finished_at is None
        store.finish_unit(ledger, unit, store.FAILED if zone == "Z03" else store.DONE, "x")
    run = store.get_run(ledger, fleet_id)
    assert run.finished_at is not None and run.outcome == store.FAILED_RUN and run.run_key == f"finished:{fleet_id}"
    assert store.open_run(ledger, "acct", "nightly", store.UNFINISHED_KEY, ZONES)[1]  # a new run, not the old one


def test_a_policy_owns_the_images_of_its_unit_runs_in_their_zones_and_a_unit_the_policys():
    from zenlayer_widgets.core.policy.records import of_policy

    assert of_policy("nightly", "FRA-A", "nightly") and of_policy("nightly@FRA-A", "FRA-A", "nightly")
    assert not of_policy("nightly@FRA-A", "HKG-A", "nightly")  # a unit's run owns only its own zone's images
    assert of_policy("nightly", "FRA-A", "nightly@FRA-A") and of_policy("nightly@HKG-A", "HKG-A", "nightly@FRA-A")
    assert not of_policy("weekly", "FRA-A", "nightly") and not of_policy("weekly@FRA-A", "FRA-A", "nightly")
    assert not of_policy("nightly", "FRA-A", "weekly@FRA-A")
