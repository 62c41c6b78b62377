"""Rotation can never lose the last good image: a resumed run whose new image fails, images a policy did not make
(or no longer rotates: renamed, pinned), the delete cap, keep within the zone quota, and a plan whose names apply
creates. Both ledgers where the ledger is the proof (``ledger_url``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

import zenlayer_widgets as zw
from shared import KILLED_WHILE_CREATING, credentials_for, custom_images, images_finish_when_polled
from zenlayer_widgets.api.client import ZenlayerClient
from zenlayer_widgets.core.ledger import Ledger, account_of

FAST = 0.1



def test_a_run_killed_while_creating_whose_image_then_fails_keeps_the_old_image(slow_emulator, ledger_url):
    """SIGKILL of an apply subprocess while its new image is CREATING; the image then ends UNAVAILABLE. The next apply
    follows it to its end, fails the step saying why, and deletes nothing: the instance keeps its good image."""
    backend = slow_emulator.backend
    build = backend.instance_named("build-hkg-01").instance_id
    policy = zw.Policy("nightly", keep=1, instance_ids=(build,))
    with ZenlayerClient(credentials_for(slow_emulator), base_url=slow_emulator.url) as client:
        with images_finish_when_polled(backend):
            first = zw.apply_rotation(client, policy, Ledger(ledger_url), poll_interval=FAST)
        assert first.ok, first.frame()
        good = first.results[0].image_id
        slow_emulator.set_faults(["CreateImage:unavailable:1"])  # the next image made ends UNAVAILABLE
        env = {**os.environ, "ZW_TEST_KEY_ID": slow_emulator.access_key_id,
               "ZW_TEST_PASSWORD": slow_emulator.access_key_password}
        killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_CREATING, slow_emulator.url, ledger_url, build],
                                env=env, capture_output=True, text=True, timeout=120)
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
        creating = [i for i, (_, status) in custom_images(slow_emulator, "HKG-A").items() if status == "CREATING"]
        assert len(creating) == 1 and custom_images(slow_emulator, "HKG-A")[good][1] == "AVAILABLE"
        with images_finish_when_polled(backend):  # the resumed run polls it: it ends UNAVAILABLE while followed
            again = zw.apply_rotation(client, policy, Ledger(ledger_url), poll_interval=FAST)
        assert again.resumed and not again.ok
        failure = again.results[0]
        assert failure.deleted == () and "ended UNAVAILABLE" in failure.reason and "nothing deleted" in failure.reason
        assert custom_images(slow_emulator, "HKG-A")[good] == (first.results[0].image_name, "AVAILABLE")  # the good one stays
        assert custom_images(slow_emulator, "HKG-A")[creating[0]][1] == "UNAVAILABLE"
        with pytest.raises(zw.RotationFailed, match=r"build-hkg-01 \(\d+\): the new image nightly-\S+ \(HKG-A\) ended"):
            again.raise_for_failures()
        slow_emulator.set_faults([])
        with images_finish_when_polled(backend):
            third = zw.apply_rotation(client, policy, Ledger(ledger_url), poll_interval=FAST)
        assert third.ok and third.results[0].deleted == (creating[0],)  # the failed image goes first (cap: 1)
        assert custom_images(slow_emulator, "HKG-A")[good][1] == "AVAILABLE"


def test_a_hand_made_image_with_a_planned_name_and_a_renamed_policy_image_survive_three_applies(mock_emulator,
                                                                                                ledger_url):
    client, ledger = mock_emulator.client(), Ledger(ledger_url)
    build = mock_emulator.backend.instance_named("build-hkg-01").instance_id
    policy = zw.Policy("nightly", keep=1, instance_ids=(build,))
    mock_emulator.set_faults(["CreateImage:unavailable:1"])
    failed = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
    mock_emulator.set_faults([])
    assert not failed.ok
    [(broken, (planned, _))] = [(i, v) for i, v in custom_images(mock_emulator, "HKG-A").items() if v[1] == "UNAVAILABLE"]
    zw.delete_image(client, broken, zone_id="HKG-A", ledger=ledger)  # the operator cleans up, and makes one by hand
    hand = zw.create_image(client, build, planned, ledger=ledger, poll_interval=FAST).image_id  # the name the step planned
    first = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
    assert first.ok and first.results[0].deleted == ()
    golden = first.results[0].image_id
    zw.rename_image(client, golden, "pinned-golden", zone_id="HKG-A", ledger=ledger)  # kept by renaming it
    applies = [zw.apply_rotation(client, policy, ledger, poll_interval=FAST)]
    renamed = applies[0].results[0].image_id
    zw.rename_image(client, renamed, "nightly-20200101T0000", zone_id="HKG-A", ledger=ledger)  # still the policy's name
    plan = zw.plan_rotation(client, policy, ledger)
    assert [d.image_name for d in plan.items[0].deletes] == ["nightly-20200101T0000"]  # the plan shows current names
    assert plan.frame().loc[0, "deletes"] == "nightly-20200101T0000"
    applies += [zw.apply_rotation(client, policy, ledger, poll_interval=FAST) for _ in range(2)]
    assert all(a.ok for a in applies), [a.frame() for a in applies]
    zone = custom_images(mock_emulator, "HKG-A")
    assert zone[hand] == (planned, "AVAILABLE") and zone[golden] == ("pinned-golden", "AVAILABLE")
    assert renamed not in zone and applies[1].results[0].deleted == (renamed,)
    marked = zw.mark_policy_images(zw.load_inventory(client).images, ledger, account_of(client)).set_index("image_id")
    assert marked.loc[golden, "pinned"] and marked.loc[golden, "pin_reason"].startswith("renamed from nightly-")
    assert marked.loc[hand, "policy"] == "" and not marked.loc[hand, "pinned"]  # foreign: not the policy's at all


def test_pin_image_keeps_an_image_through_applies_until_unpinned(mock_emulator, ledger_url):
    from zenlayer_widgets.core.policy import pins

    client, ledger = mock_emulator.client(), Ledger(ledger_url)
    build = mock_emulator.backend.instance_named("build-hkg-01").instance_id
    policy = zw.Policy("nightly", keep=1, instance_ids=(build,))
    kept = zw.apply_rotation(client, policy, ledger, poll_interval=FAST).results[0].image_id
    with pytest.raises(ValueError, match="no custom image 'img-nope'; nothing was pinned"):
        zw.pin_image(client, "img-nope", reason="typo", ledger=ledger)
    with pytest.raises(ValueError, match="reason must not be empty"):
        zw.pin_image(client, kept, reason=" ", ledger=ledger)
    assert pins(ledger, account_of(client)) == {}
    pin = zw.pin_image(client, kept, reason="golden before the kernel upgrade", ledger=ledger)
    assert (pin.zone_id, pin.image_name) == ("HKG-A", custom_images(mock_emulator, "HKG-A")[kept][0])
    runs = [zw.apply_rotation(client, policy, ledger, poll_interval=FAST) for _ in range(2)]
    assert all(r.ok for r in runs) and kept in custom_images(mock_emulator, "HKG-A")
    assert runs[1].results[0].deleted == (runs[0].results[0].image_id,)  # the unpinned one rotates as before
    marked = zw.mark_policy_images(zw.load_inventory(client).images, ledger, account_of(client)).set_index("image_id")
    assert marked.loc[kept, "pinned"] and marked.loc[kept, "pin_reason"] == "golden before the kernel upgrade"
    assert marked.loc[kept, "policy"] == "nightly"
    assert zw.unpin_image(client, kept, ledger=ledger) and not zw.unpin_image(client, kept, ledger=ledger)
    back = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
    assert back.ok and back.results[0].deleted == (kept,)  # the oldest goes first once unpinned (cap: one)


def test_the_delete_cap_is_in_the_plan_and_holds_in_the_run(mock_emulator, tmp_path):
    client, ledger = mock_emulator.client(), Ledger(tmp_path / "ledger.sqlite3")
    build = mock_emulator.backend.instance_named("build-hkg-01").instance_id
    made = [zw.apply_rotation(client, zw.Policy("nightly", keep=3, instance_ids=(build,)), ledger,
                              poll_interval=FAST).results[0].image_id for _ in range(3)]
    tight = zw.Policy("nightly", keep=1, instance_ids=(build,))  # two beyond keep, the default cap is one (1 instance)
    plan = zw.plan_rotation(client, tight, ledger)
    assert plan.max_deletes == 1 and "(at most 1 delete per run)" in plan.summary()
    assert [d.image_id for d in plan.items[0].deletes] == made[:1] and "kept for a later run" in plan.items[0].reason
    capped = zw.apply_rotation(client, tight, ledger, poll_interval=FAST, plan=plan)
    assert capped.ok and capped.results[0].deleted == (made[0],) and "kept for a later run" in capped.results[0].reason
    none = zw.apply_rotation(client, zw.Policy("nightly", keep=1, instance_ids=(build,), max_deletes=0), ledger,
                             poll_interval=FAST)
    assert none.ok and none.results[0].deleted == () and set(made[1:]) <= set(custom_images(mock_emulator, "HKG-A"))


@pytest.mark.parametrize(("values", "error", "message"), [
    ({"keep": 6}, ValueError, "keep must be from 1 to 5, not 6: a zone holds at most 5 custom images"),
    ({"keep": 0}, ValueError, "keep must be from 1 to 5"),
    ({"keep": "2"}, TypeError, "keep must be a whole number"),
    ({"max_deletes": -1}, ValueError, "max_deletes must be at least 0"),
    ({"stop_if_running": "yes"}, TypeError, "stop_if_running must be True or False"),
    ({"start_after": 1}, TypeError, "start_after must be True, False or None"),
    ({"zones": [1]}, TypeError, "zones must be a string"),
    ({"name_contains": 5}, TypeError, "name_contains must be a string"),
])
def test_bad_policy_arguments_are_refused_before_anything_is_sent(mock_emulator, values, error, message):
    with pytest.raises(error, match=message):
        zw.Policy("nightly", **{"instance_ids": ("1",), **values})
    assert zw.Policy("nightly", keep=5, instance_ids=("1",)).keep == 5


def test_apply_of_a_previewed_plan_creates_the_plans_names(mock_emulator, tmp_path, monkeypatch):
    client, ledger = mock_emulator.client(), Ledger(tmp_path / "ledger.sqlite3")
    chosen = tuple(mock_emulator.backend.instance_named(n).instance_id for n in ("build-hkg-01", "ci-nyc-01"))
    policy = zw.Policy("nightly", keep=2, instance_ids=chosen)
    plan = zw.plan_rotation(client, policy, ledger)
    from zenlayer_widgets.core.policy import apply

    monkeypatch.setattr(apply, "stamp_of", lambda: "20991231T2359")  # the minute changed between preview and apply
    outcome = zw.apply_rotation(client, policy, ledger, poll_interval=FAST, plan=plan)
    assert outcome.ok
    assert {r.instance_id: r.image_name for r in outcome.results} == {i: plan.name_for(i) for i in chosen}
    with pytest.raises(ValueError, match="The plan is of another policy"):
        zw.apply_rotation(client, zw.Policy("nightly", keep=1, instance_ids=chosen), ledger, plan=plan)


def test_a_version_3_ledger_gains_the_pins_table_as_schema_py_declares_it(ledger_url):
    """Migration 4 is written out in full (not built from schema.py): a ledger at version 3 gains ``zw_pins`` with
    exactly the columns and key schema.py declares."""
    import sqlalchemy as sa

    from zenlayer_widgets.core.ledger import migrations, schema
    from zenlayer_widgets.core.ledger.engine import make_engine
    from zenlayer_widgets.core.ledger.records import now_text

    engine = make_engine(ledger_url)
    with engine.begin() as connection:
        schema.schema_version.create(connection)
        for number, name, apply in migrations.MIGRATIONS[:3]:
            apply(connection)
            connection.execute(schema.schema_version.insert().values(version=number, name=name, applied_at=now_text()))
    engine.dispose()
    ledger = Ledger(ledger_url)
    assert ledger.version >= 4
    with ledger.engine.connect() as connection:
        inspector = sa.inspect(connection)
        columns = {c["name"]: c["nullable"] for c in inspector.get_columns("zw_pins")}
        key = inspector.get_pk_constraint("zw_pins")["constrained_columns"]
    assert columns == {c.name: c.nullable for c in schema.pins.columns if not c.primary_key} | {"account": False,
                                                                                               "image_id": False}
    assert key == [c.name for c in schema.pins.primary_key.columns]
