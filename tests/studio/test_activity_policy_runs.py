"""The activity panel shows a rotation-policy run as one entry (what it made, deleted, skipped) with its own actions
under it; actions outside any run stay as they were."""

from __future__ import annotations

import csv

import zenlayer_widgets as zw
from shared import ids_by_name
from zenlayer_widgets.studio.activity import POLICY, Activity
from zenlayer_widgets.widgets.activity_view import ActivityView, activity_table

FAST = 0.1


def test_each_policy_run_is_one_entry_with_its_creates_and_deletes(mock_emulator, mock_client, tmp_path):
    build, web = ids_by_name(mock_emulator)["build-hkg-01"], ids_by_name(mock_emulator)["web-hkg-01"]
    policy = zw.Policy("nightly", keep=1, instance_ids=(build, web))
    first = zw.apply_rotation(mock_client, policy, poll_interval=FAST)
    second = zw.apply_rotation(mock_client, policy, poll_interval=FAST)
    zw.create_image(mock_client, build, "by-hand", poll_interval=FAST)
    activity = Activity(lambda: mock_client)
    activity.reload()
    rows = activity.rows
    # newest, no run; one row for the create (its outcome now: available), not one per outcome
    assert rows[0]["image_name"] == "by-hand" and rows[0]["level"] == "" and rows[0]["outcome"] == "available"
    assert rows[1]["level"] == "run"
    entries = [r for r in rows if r["level"] == "run"]
    assert [e["run"] for e in entries] == [second.run_id, first.run_id]  # newest first, one entry per run
    newest = rows.index(entries[0])
    under = rows[newest + 1:rows.index(entries[1])]
    assert under and all(r["level"] == "step" and r["run"] == second.run_id for r in under)
    assert sorted(r["kind"] for r in under) == ["create", "delete"]  # its image, and the older one it deleted
    [made] = [r for r in second.results if r.result == "created"]
    [gone] = [r for r in first.results if r.result == "created"]
    assert [r["image"] for r in under if r["kind"] == "delete"] == [gone.image_id]
    text = entries[0]["text"]
    assert text.startswith("Policy nightly · ok · 1 created") and made.image_name in text and gone.image_id in text
    assert "1 skipped" in text and "of 2 instances" in text  # web-hkg-01 is RUNNING: skipped, said so

    activity.kind = POLICY  # only the runs, each with its actions
    assert {r["run"] for r in activity.rows} == {first.run_id, second.run_id}
    assert [r["level"] for r in activity.rows].count("run") == 2
    activity.kind = "delete"  # a kind: flat, every delete still says its run
    assert [(r["level"], r["run"]) for r in activity.rows] == [("", second.run_id)]
    activity.kind = ""
    activity.instance_id = web  # a run that only skipped this instance still lists it
    assert [r["level"] for r in activity.rows] == ["run", "run"]

    path = activity.export_csv(tmp_path)
    with path.open() as handle:
        exported = list(csv.DictReader(handle))
    assert [r["run"] for r in exported] == [second.run_id, first.run_id] and exported[0]["kind"] == "policy"


def test_the_table_spans_a_run_entry_and_indents_its_actions(mock_emulator, mock_client):
    build = ids_by_name(mock_emulator)["build-hkg-01"]
    zw.apply_rotation(mock_client, zw.Policy("nightly", keep=1, instance_ids=(build,)), poll_interval=FAST)
    activity = Activity(lambda: mock_client)
    view = ActivityView(activity)
    activity.reload()
    html = view.table.value
    assert html == activity_table(activity.rows)
    assert html.count('class="zw-activity-row zw-activity-run" data-kind="policy"') == 1
    assert 'colspan="12"><div class="zw-activity-run-text">' in html and "</span> Policy nightly · ok · 1 created" in html
    assert html.count("zw-activity-step") == 1 and html.count("zw-activity-indent") == 1  # its one create
    assert ("policy runs", POLICY) in view.kind.options
    view.kind.value = POLICY
    assert activity.kind == POLICY and "zw-activity-run" in view.table.value


def test_an_interrupted_run_says_the_next_apply_resumes_it(mock_emulator, mock_client):
    build = ids_by_name(mock_emulator)["build-hkg-01"]

    class Stop(BaseException):
        pass

    def stop(_instance: str, phase: str) -> None:
        if phase == "created":
            raise Stop

    try:
        zw.apply_rotation(mock_client, zw.Policy("nightly", keep=1, instance_ids=(build,)), on_step=stop, poll_interval=FAST)
    except Stop:
        pass
    activity = Activity(lambda: mock_client)
    activity.reload()
    [entry] = [r for r in activity.rows if r["level"] == "run"]
    assert entry["outcome"] == "unfinished: the next apply resumes it" and "0 created" not in entry["text"]
