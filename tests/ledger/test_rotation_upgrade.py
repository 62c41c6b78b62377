"""Upgrade of a version-7 ledger (rotation runs in ``zw_policy_runs`` / ``zw_policy_steps``) to version 9, where
runs are durable operations: the images a policy owned by id are still owned (and only those: a hand-made image
with a policy-looking name is not), the history still lists every run, and the unfinished run is resumed by the
next apply, which follows the image that run made instead of making a second one. Both ledgers."""

from __future__ import annotations

import sqlalchemy as sa

import zenlayer_widgets as zw
from zenlayer_widgets.core.ledger import Ledger, account_of, migrations
from zenlayer_widgets.core.ledger.engine import make_engine
from zenlayer_widgets.core.operations import store
from zenlayer_widgets.core.policy import owned_images, runs, runs_frame
from zenlayer_widgets.core.policy.records import operations_of, run_key

FAST = 0.1
FINISHED, UNFINISHED = "1" * 32, "2" * 32


def version_7_rows(url: str, account: str, instance_id: str, zone: str, old: str, made: str) -> None:
    """What the version-7 code wrote: a finished run whose step made ``old``, and a run killed after its create
    answered (its step planned, with the image id ``made``), its owner gone (a pid of no process, long ago)."""
    engine = make_engine(url)
    assert migrations.migrate(engine, up_to=7) == 7
    m = sa.MetaData()
    runs_table = sa.Table("zw_policy_runs", m, *(sa.Column(n, sa.Text) for n in (
        "run_id", "policy", "account", "name_prefix", "stamp", "started_at", "finished_at", "outcome", "who", "owner",
        "owner_host", "heartbeat_at", "owner_process")), sa.Column("owner_pid", sa.Integer))
    steps_table = sa.Table("zw_policy_steps", m, *(sa.Column(n, sa.Text) for n in (
        "run_id", "instance_id", "policy", "account", "zone_id", "image_name", "image_id", "state", "reason",
        "updated_at")), sa.Column("deleted", sa.JSON))
    with engine.begin() as connection:
        connection.execute(runs_table.insert(), [
            {"run_id": FINISHED, "policy": "nightly", "account": account, "name_prefix": "nightly",
             "stamp": "20261130T0000", "started_at": "2026-11-30T00:00:00.000+00:00",
             "finished_at": "2026-11-30T00:05:00.000+00:00", "outcome": "ok", "who": "ops@host", "owner": "e" * 32,
             "owner_host": "gone-host", "owner_pid": 1, "heartbeat_at": "2026-11-30T00:05:00.000+00:00"},
            {"run_id": UNFINISHED, "policy": "nightly", "account": account, "name_prefix": "nightly",
             "stamp": "20261201T0000", "started_at": "2026-12-01T00:00:00.000+00:00", "finished_at": None,
             "outcome": None, "who": "ops@host",
             "owner": "f" * 32, "owner_host": "gone-host", "owner_pid": 1,
             "heartbeat_at": "2026-12-01T00:00:01.000+00:00"},
        ])
        connection.execute(steps_table.insert(), [
            {"run_id": FINISHED, "instance_id": instance_id, "policy": "nightly", "account": account, "zone_id": zone,
             "image_name": "nightly-20261130T0000", "image_id": old, "state": "done", "reason": "", "deleted": [],
             "updated_at": "2026-11-30T00:04:00.000+00:00"},
            {"run_id": UNFINISHED, "instance_id": instance_id, "policy": "nightly", "account": account, "zone_id": zone,
             "image_name": "nightly-20261201T0000", "image_id": made, "state": "planned", "reason": None, "deleted": None,
             "updated_at": "2026-12-01T00:00:30.000+00:00"},
        ])
    engine.dispose()


def test_a_version_7_ledger_keeps_its_owned_images_history_and_unfinished_run(mock_emulator, ledger_url, tmp_path):
    client = mock_emulator.client()
    account = account_of(client)
    build = mock_emulator.backend.instance_named("build-hkg-01")
    aside = Ledger(tmp_path / "aside.sqlite3")  # the images exist in the cloud; their rows are the v7 ledger's below
    old = zw.create_image(client, build.instance_id, "nightly-20261130T0000", ledger=aside, poll_interval=FAST).image_id
    made = zw.create_image(client, build.instance_id, "nightly-20261201T0000", ledger=aside, poll_interval=FAST).image_id
    by_hand = zw.create_image(client, build.instance_id, "nightly-20261129T0000", ledger=aside,
                              poll_interval=FAST).image_id  # a policy-looking name, made by hand: never the policy's
    version_7_rows(ledger_url, account, build.instance_id, build.zone_id, old, made)

    ledger = Ledger(ledger_url)  # migrates to the latest
    assert ledger.version == migrations.LATEST
    assert set(owned_images(ledger, account, "nightly")) == {old, made}
    history = {r.run_id: r for r in runs(ledger, account, "nightly")}
    assert history[FINISHED].outcome == "ok" and history[UNFINISHED].finished_at is None
    assert history[UNFINISHED].stamp == "20261201T0000"
    carried = store.unfinished(ledger, account, run_key("nightly"))  # the run is an operation of the engine now
    assert carried is not None and carried.operation_id == UNFINISHED and carried.kind == "rotation"
    frame = runs_frame(ledger, account, "nightly")
    assert frame.set_index("run_id").loc[FINISHED, "created"] == "nightly-20261130T0000"

    images_before = set(mock_emulator.backend.images)
    outcome = zw.apply_rotation(client, zw.Policy("nightly", keep=1, instance_ids=(build.instance_id,)), ledger,
                                poll_interval=FAST)
    assert outcome.resumed and outcome.run_id == UNFINISHED and outcome.ok, outcome.frame()
    [result] = outcome.results
    assert result.image_id == made and result.deleted == (old,)  # the made image followed, no second one
    assert set(mock_emulator.backend.images) == images_before - {old}
    assert by_hand in mock_emulator.backend.images
    [driven] = operations_of(ledger, UNFINISHED).values()  # the resume ran on the engine: its steps, each done
    assert [(s.kind, s.state) for s in driven.steps] == [("rotate_image", "done"), ("rotate_wait", "done"),
                                                         ("rotate_created", "done"), ("rotate_delete", "done")]
    finished = {r.run_id: r for r in runs(ledger, account, "nightly")}
    assert finished[UNFINISHED].outcome == "ok" and len(finished) == 2
    ledger.close()
    aside.close()
