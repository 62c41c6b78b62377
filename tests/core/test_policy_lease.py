"""One apply of a policy at a time: a second apply while the first holds the run changes nothing and says who holds
it; an abandoned run (its process gone, or its heartbeat older than the lease) is resumed; the actions of a run carry
its id. On a SQLite file and on a real PostgreSQL server (two hosts sharing a team ledger)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import zenlayer_widgets as zw
from shared import credentials_for, held_rotation_run, ids_by_name
from zenlayer_widgets._runner import run_sync
from zenlayer_widgets.api.client import ZenlayerClient
from zenlayer_widgets.core.ledger import Ledger, account_of, migrations, schema
from zenlayer_widgets.core.ledger.ownership import live_owners
from zenlayer_widgets.core.ledger.records import now_text
from zenlayer_widgets.core.policy import lease
from zenlayer_widgets.core.policy.records import runs

FAST = 0.1


def custom_count(emulator) -> int:
    return len(emulator.backend.images)


def test_two_applies_at_once_in_one_kernel_make_one_image_per_instance(mock_emulator, ledger_url):
    ledger = Ledger(ledger_url)
    client = mock_emulator.client()
    chosen = tuple(ids_by_name(mock_emulator)[n] for n in ("build-hkg-01", "ci-nyc-01"))
    policy = zw.Policy("nightly", keep=2, instance_ids=chosen)
    before = custom_count(mock_emulator)

    async def both() -> list[object]:
        return await asyncio.gather(zw.apply_rotation_async(client, policy, ledger, poll_interval=FAST),
                                    zw.apply_rotation_async(client, policy, ledger, poll_interval=FAST),
                                    return_exceptions=True)

    first, second = run_sync(both())
    outcomes = [r for r in (first, second) if isinstance(r, zw.core.policy.Outcome)]
    refused = [r for r in (first, second) if isinstance(r, zw.PolicyBusy)]
    assert len(outcomes) == 1 and len(refused) == 1, (first, second)
    assert outcomes[0].ok and [r.result for r in outcomes[0].results] == ["created", "created"]
    assert custom_count(mock_emulator) == before + 2  # one image per instance, not two
    message = str(refused[0])
    assert "nightly is being applied by" in message and "changed nothing" in message
    assert mock_emulator.access_key_password not in message
    assert len(runs(ledger, account_of(client), "nightly")) == 1  # the refused apply began no run
    assert len(ledger.entries()) == 2  # and no intent
    again = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)  # once the first is done: a new run
    assert again.ok and not again.resumed and custom_count(mock_emulator) == before + 4


SLOW_APPLY = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import zenlayer_widgets as zw
    from zenlayer_widgets.api.client import ZenlayerClient
    from zenlayer_widgets.api.credentials import Credentials
    from zenlayer_widgets.core.ledger import Ledger

    url, ledger_url, marker, key_id, password, *chosen = sys.argv[1:]
    def slow(instance_id, phase):
        if phase == "planned":
            Path(marker).write_text("planned")
            time.sleep(3)  # hold the run while the test's own apply tries
    with ZenlayerClient(Credentials(access_key_id=key_id, access_key_password=password), base_url=url) as client:
        outcome = zw.apply_rotation(client, zw.Policy("nightly", keep=2, instance_ids=tuple(chosen)),
                                    Ledger(ledger_url), on_step=slow, poll_interval=0.1)
    print(outcome.summary())
""")


def test_an_apply_in_another_process_holds_the_policy_until_it_ends(emulator, ledger_url, tmp_path):
    chosen = ids_by_name(emulator)["build-hkg-01"]
    marker = tmp_path / "planned"
    credentials = credentials_for(emulator)
    other = subprocess.Popen([sys.executable, "-c", SLOW_APPLY, emulator.url, ledger_url, str(marker),
                              credentials.access_key_id, credentials.access_key_password, chosen],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert other.poll() is None, other.communicate()
            assert time.monotonic() < deadline, "the other process never planned"
            time.sleep(0.05)
        ledger = Ledger(ledger_url)
        with ZenlayerClient(credentials, base_url=emulator.url) as client:
            before = len(emulator.backend.images)
            with pytest.raises(zw.PolicyBusy, match=rf"pid {other.pid}\).*changed nothing"):
                zw.apply_rotation(client, zw.Policy("nightly", keep=2, instance_ids=(chosen,)), ledger, poll_interval=FAST)
            assert len(emulator.backend.images) == before
            out, err = other.communicate(timeout=120)
            assert other.returncode == 0 and "1 created" in out, err
            assert len(emulator.backend.images) == before + 1  # the other process's image, and no second one
            [finished] = runs(ledger, account_of(client), "nightly")
            assert finished.outcome == "ok" and finished.owner_pid == other.pid
    finally:
        if other.poll() is None:
            other.kill()


def _unfinished_run(ledger: Ledger, account: str, *, host: str, pid: int, heartbeat: str, process: str | None = None) -> str:
    return held_rotation_run(ledger, account, host=host, pid=pid, heartbeat=heartbeat, process=process)


def test_a_run_held_on_another_host_is_busy_until_its_heartbeat_is_older_than_the_lease(ledger_url):
    ledger = Ledger(ledger_url)
    account = "https://console.zenlayer.com"
    run_id = _unfinished_run(ledger, account, host="other-host", pid=1, heartbeat=now_text())
    with pytest.raises(zw.PolicyBusy, match=r"colleague@elsewhere on other-host \(pid 1\)"):
        lease.claim_run(ledger, account, "nightly", "nightly", "20261201T0100")
    later = time.time() + lease.LEASE_SECONDS + 1
    [held] = runs(ledger, account, "nightly")
    assert lease.held_by_another(held) and not lease.held_by_another(held, now=later)
    stale = time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime(time.time() - lease.LEASE_SECONDS - 5))
    ledger._write(schema.operations.update().values(heartbeat_at=stale))
    run, resumed = lease.claim_run(ledger, account, "nightly", "nightly", "20261201T0100")
    assert resumed and run.run_id == run_id and run.stamp == "20261201T0000"  # the same run: the same image names
    assert run.owner != "b" * 32 and run.owner_host != "other-host"
    with pytest.raises(zw.PolicyBusy):  # now this process holds it
        lease.claim_run(ledger, account, "nightly", "nightly", "20261201T0100")
    live_owners.discard(run.owner)


def test_a_run_whose_process_is_gone_from_this_host_is_resumed_at_once(ledger_url):
    import socket

    ledger = Ledger(ledger_url)
    account = "https://console.zenlayer.com"
    gone = subprocess.run([sys.executable, "-c", "import os; from zenlayer_widgets.core.ledger.ownership import "
                           "process_identity; print(os.getpid(), process_identity())"], capture_output=True, text=True)
    pid, process = gone.stdout.split()
    run_id = _unfinished_run(ledger, account, host=socket.gethostname(), pid=int(pid), heartbeat=now_text(), process=process)
    run, resumed = lease.claim_run(ledger, account, "nightly", "nightly", "20261201T0100")
    assert resumed and run.run_id == run_id
    live_owners.discard(run.owner)


def test_every_action_of_a_run_carries_its_id_and_others_do_not(mock_emulator, tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    client = mock_emulator.client()
    build = ids_by_name(mock_emulator)["build-hkg-01"]
    policy = zw.Policy("nightly", keep=1, instance_ids=(build,))
    first = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
    second = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
    zw.create_image(client, build, "by-hand", ledger=ledger, poll_interval=FAST)
    account = account_of(client)
    mine = ledger.history(account, run_id=second.run_id)
    assert {a.kind for a in mine} == {"create", "delete"}
    assert [a.image_id for a in mine if a.kind == "delete"] == [first.results[0].image_id]
    assert {a.image_name for a in ledger.history(account, run_id=first.run_id)} == {first.results[0].image_name}
    by_hand = [a for a in ledger.history(account) if a.image_name == "by-hand"]
    assert by_hand and all(a.run_id is None for a in by_hand)


def test_a_version_2_ledger_gains_leases_and_keeps_only_the_newest_unfinished_run(tmp_path: Path):
    """A ledger written by the previous release (schema 2, no lease columns) opens, migrates, and two unfinished runs
    of one policy (possible before the unique index) become one: the newest, which the next apply resumes."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    assert migrations.migrate(engine, up_to=2) == 2  # version 2 as it shipped (no lease columns)
    old = sa.MetaData()
    old_runs = sa.Table("zw_policy_runs", old, *[sa.Column(name, sa.Text) for name in (
        "run_id", "policy", "account", "name_prefix", "stamp", "started_at", "who")])
    with engine.begin() as connection:
        for run_id, started in (("1" * 32, "2026-11-30T00:00:00.000+00:00"), ("2" * 32, "2026-12-01T00:00:00.000+00:00")):
            connection.execute(old_runs.insert().values(
                run_id=run_id, policy="nightly", account="acct", name_prefix="nightly", stamp="x", started_at=started,
                who="me@here"))
    engine.dispose()
    ledger = Ledger(url)
    assert ledger.version == migrations.LATEST
    by_id = {r.run_id: r for r in runs(ledger, "acct")}
    assert by_id["1" * 32].outcome == "superseded" and by_id["2" * 32].finished_at is None
    run, resumed = lease.claim_run(ledger, "acct", "nightly", "nightly", "y")
    assert resumed and run.run_id == "2" * 32  # a run from before leases (no owner) is resumable
    live_owners.discard(run.owner)
    with pytest.raises(sa.exc.IntegrityError):  # one unfinished run per policy stands (the operation's index)
        held_rotation_run(ledger, "acct", host="h", pid=1, heartbeat=now_text(), run_id="3" * 32)


def test_an_apply_whose_run_was_taken_over_deletes_nothing_more(mock_emulator, tmp_path):
    """A fence: the heartbeat stalled (a laptop asleep), another apply took the run over; the first one wakes after
    its image is AVAILABLE and must not delete the old images the other apply is now rotating."""
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    client = mock_emulator.client()
    build = ids_by_name(mock_emulator)["build-hkg-01"]
    policy = zw.Policy("nightly", keep=1, instance_ids=(build,))
    first = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
    images_after_first = set(mock_emulator.backend.images)

    def taken_over(_instance: str, phase: str) -> None:
        if phase == "created":  # another apply's take-over, as the database would record it
            ops = schema.operations
            ledger._write(ops.update().where(ops.c.kind == "rotation", ops.c.finished_at.is_(None))
                          .values(owner="c" * 32, owner_host="other-host", heartbeat_at=now_text()))

    second = zw.apply_rotation(client, policy, ledger, on_step=taken_over, poll_interval=FAST)
    [result] = second.results
    assert result.result == "failed" and "taken over by another apply" in result.reason and "deleted nothing" in result.reason
    assert first.results[0].image_id in mock_emulator.backend.images  # the old image is still there
    assert len(set(mock_emulator.backend.images) - images_after_first) == 1  # the new one, made once
    [unfinished] = [r for r in runs(ledger, account_of(client), "nightly") if r.finished_at is None]
    assert unfinished.owner == "c" * 32  # left to the apply that holds it; its steps were not overwritten
