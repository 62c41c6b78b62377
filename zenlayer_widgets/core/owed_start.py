"""The start a create owes an instance it stopped: the pending ``start_owed`` step of its create operation.

A create that stops an instance (or is told to start it afterwards) is one operation of the engine
(:mod:`.create`), planned in the ledger before the stop is sent, its last step the start. While that step has not
run, the start is owed, after a crash or a kernel restart too: re-running the same create takes the operation up,
and a start made by hand (:func:`~zenlayer_widgets.core.restart.restart_async`) settles it. Ledgers from before
version 8 recorded the owed start as an open ``planned`` start action; migration 8 made each an operation.
"""

from __future__ import annotations

from .create_plan import KIND, START
from .ledger import Action, Ledger
from .ledger.ownership import new_owner
from .operations import DONE, OPERATION_FAILED, PLANNED, SENT, SKIPPED, SUCCEEDED, Operation, StepFailed, held_by_another, store

#: What an owed start's history row says (``zw_actions``: a ``start`` with this outcome, for the Activity).
PLANNED_OUTCOME = "planned"
STOPPED_AT = "stopped at "


def owes_start(operation: Operation) -> bool:
    """Whether ``operation`` is unfinished with its start step still to run."""
    step = operation.step(START)
    return operation.kind == KIND and not operation.finished and step is not None and step.state in (PLANNED, SENT)


def owing(ledger: Ledger, account: str, instance_id: str) -> list[Operation]:
    """The unfinished creates of ``instance_id`` that owe it a start, newest first."""
    found = store.operations(ledger, account, kind=KIND, instance_id=instance_id, unfinished_only=True)
    return [operation for operation in found if owes_start(operation)]


def owed_instances(ledger: Ledger, account: str) -> list[str]:
    """The instances a create stopped and has not started again yet (for a notice after a crash)."""
    found = store.operations(ledger, account, kind=KIND, unfinished_only=True, limit=500)
    return sorted({str(op.instance_id) for op in found if owes_start(op) and op.instance_id})


def as_action(operation: Operation) -> Action:
    """The owed start as the planned ``start`` action it replaces (what ``pending_restart`` has always returned)."""
    stopped_at = operation.facts.get("stopped_at")
    return Action(0, operation.started_at, "start", operation.account, operation.zone_id, operation.instance_id, None,
                  operation.params.get("image_name"), None, PLANNED_OUTCOME, operation.who, None,
                  None if stopped_at is None else STOPPED_AT + str(stopped_at))


def settle(ledger: Ledger, account: str, instance_id: str, *, besides: str | None = None) -> None:
    """The instance was started (or found RUNNING) outside these operations: each create that owed it a start and
    that no live run holds ends here (its start step done, steps not run skipped; ``done`` when every other step
    was). A live run's create is left to that run."""
    for operation in owing(ledger, account, instance_id):
        if operation.operation_id == besides or held_by_another(operation):
            continue
        owner = new_owner()
        taken = store.take_over(ledger, operation, owner)
        if taken is None:
            continue
        complete = True
        for step in taken.steps:
            if step.kind == START:
                store.mark_done(ledger, step, owner, {"started": "elsewhere"}, taken.facts)
            elif step.state not in (DONE, SKIPPED):
                complete = False
                store.mark_skipped(ledger, step, owner)
        failure = None if complete else StepFailed("STARTED_ELSEWHERE", "The owed start was made outside this create.")
        store.finish(ledger, taken, owner, SUCCEEDED if complete else OPERATION_FAILED, failure)
