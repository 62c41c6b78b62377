"""The activity lists each action once, where it stands now, though the ledger keeps every step of it."""

from __future__ import annotations

from zenlayer_widgets.core.ledger.records import Action
from zenlayer_widgets.studio.activity import latest_of_each


def _action(n: int, kind: str, outcome: str, *, instance: str = "i-1", intent: str | None = None) -> Action:
    return Action(action_id=n, at=f"2026-12-02T00:00:{n:02d}Z", kind=kind, account="acct", zone_id="HKG-A",
                  instance_id=instance, image_id=None, image_name="img", request_id=f"T{n}", outcome=outcome,
                  who="me", intent_id=intent, detail=None)


def test_a_create_shows_its_newest_outcome_and_a_start_plan_goes_once_a_start_follows() -> None:
    history = [  # newest first, as the ledger returns it
        _action(9, "start", "planned"),  # a second loop, its stop not done yet: still owed, shown
        _action(8, "create", "submitted", intent="b"),
        _action(7, "start", "done"),
        _action(6, "create", "available", intent="a"),
        _action(5, "create", "timeout", intent="a"),
        _action(4, "create", "submitted", intent="a"),
        _action(3, "stop", "done"),
        _action(2, "start", "planned"),  # closed by the start at 7
        _action(1, "start", "planned", instance="i-2"),  # another instance's: still owed
    ]
    kept = [(a.action_id, a.kind, a.outcome) for a in latest_of_each(history)]
    assert kept == [(9, "start", "planned"), (8, "create", "submitted"), (7, "start", "done"),
                    (6, "create", "available"), (3, "stop", "done"), (1, "start", "planned")]


def test_creates_of_other_intents_and_rows_without_one_are_all_kept() -> None:
    history = [_action(3, "create", "available", intent="x"), _action(2, "create", "available", intent="y"),
               _action(1, "create", "not_made")]
    assert [a.action_id for a in latest_of_each(history)] == [3, 2, 1]


def test_rows_read_as_the_operator_knows_them_names_old_names_and_local_time_beside_utc(monkeypatch) -> None:
    import time as clock
    from dataclasses import replace

    from zenlayer_widgets.studio.activity import action_row
    from zenlayer_widgets.widgets.activity_view import activity_table

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    clock.tzset()
    try:
        rename = replace(_action(1, "rename", "done", instance=None), image_name="web-2026", detail="was web-2025")
        start = replace(_action(2, "start", "done"), detail="stopped at 2026-12-02T00:00:00.000+00:00")
        rows = [action_row(a, names={"i-1": "web-hkg-01"}.get) for a in (rename, start)]
        assert rows[0]["image_name"] == "web-2025 → web-2026"  # a rename row says what it was called before
        assert rows[1]["instance_name"] == "web-hkg-01" and rows[1]["downtime_s"] == 2.0
        table = activity_table(rows)
        assert "2026-12-02 00:00:02 UTC (2026-12-02 08:00:02 CST)" in table
        assert "web-hkg-01<br>" in table and "web-2025 → web-2026" in table
    finally:
        monkeypatch.delenv("TZ")
        clock.tzset()


def test_the_export_names_an_absolute_path_and_links_it(tmp_path, monkeypatch) -> None:
    from zenlayer_widgets.studio.activity import Activity
    from zenlayer_widgets.widgets.activity_view import ActivityView

    monkeypatch.chdir(tmp_path)
    activity = Activity(lambda: None)
    view = ActivityView(activity)
    path = activity.export_csv()
    assert path.is_absolute() and path.exists() and str(path) in activity.notice
    assert f'href="exports/{path.name}"' in view.notice.value and "Open the CSV" in view.notice.value


def test_zones_without_images_say_so_in_the_rotation_quota_instead_of_zeros() -> None:
    from zenlayer_widgets.widgets.rotation_view import PLAN_QUOTA_COLUMNS, quota_table

    html = quota_table([{"zone": "HKG-A", "used_before": 1, "used_after": 2, "max": 5},
                        {"zone": "SIN-E", "used_before": 0, "used_after": 0, "max": 0}], PLAN_QUOTA_COLUMNS)
    sin = html.split("SIN-E")[1].split("</tr>")[0]
    assert "images not supported" in sin and ">0<" not in sin
