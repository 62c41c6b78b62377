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
