"""Operations in the ledger: written with their whole plan before anything is sent, then moved step by step.

Every write that precedes a send is a compare-and-set on the operation's owner (a fence): a run that has
lost the lease cannot mark a step sent, so it sends nothing. One unfinished operation per (account, key) is a
partial unique index: two runs of the same verify or launch cannot both begin one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc

from ..ledger import Ledger
from ..ledger import schema as tables
from ..ledger.ownership import owner_fields
from ..ledger.records import error_fields, now_text, who_am_i
from .model import DONE, FAILED, PLANNED, SENT, SKIPPED, LeaseLost, Operation, Step, StepPlan

_ops, _steps = tables.operations, tables.operation_steps


def _step(row: sa.Row[Any]) -> Step:
    data = dict(row._mapping)
    data["always"] = bool(data["always"])
    data["params"] = data["params"] or {}
    return Step(**data)


def get(ledger: Ledger, operation_id: str) -> Operation | None:
    """The operation with its steps, or None."""
    found = get_many(ledger, [operation_id])
    return found[0] if found else None


def get_many(ledger: Ledger, operation_ids: Sequence[str]) -> list[Operation]:
    """The operations of ``operation_ids`` that exist, with their steps, in that order (two reads in all)."""
    if not operation_ids:
        return []
    rows = ledger._read(sa.select(_ops).where(_ops.c.operation_id.in_(list(operation_ids))))
    steps: dict[str, list[Step]] = {}
    for row in ledger._read(sa.select(_steps).where(_steps.c.operation_id.in_(list(operation_ids)))
                            .order_by(_steps.c.operation_id, _steps.c.position)):
        steps.setdefault(row.operation_id, []).append(_step(row))
    by_id = {}
    for row in rows:
        data = dict(row._mapping)
        data["params"], data["facts"] = data["params"] or {}, data["facts"] or {}
        by_id[data["operation_id"]] = Operation(**data, steps=tuple(steps.get(data["operation_id"], ())))
    return [by_id[i] for i in operation_ids if i in by_id]


def _latest(ledger: Ledger, *conditions: Any) -> Operation | None:
    rows = ledger._read(sa.select(_ops.c.operation_id).where(*conditions)
                        .order_by(_ops.c.started_at.desc(), _ops.c.operation_id.desc()).limit(1))
    return get(ledger, rows[0].operation_id) if rows else None


def unfinished(ledger: Ledger, account: str, key: str) -> Operation | None:
    """The unfinished operation of ``key`` at ``account`` (at most one), if any."""
    return _latest(ledger, _ops.c.account == account, _ops.c.key == key, _ops.c.finished_at.is_(None))


def latest(ledger: Ledger, account: str, key: str, *, outcome: str | None = None) -> Operation | None:
    """The newest operation of ``key`` (with ``outcome`` when given)."""
    conditions = [_ops.c.account == account, _ops.c.key == key]
    if outcome is not None:
        conditions.append(_ops.c.outcome == outcome)
    return _latest(ledger, *conditions)


def operations(ledger: Ledger, account: str | None = None, *, kind: str | None = None, image_id: str | None = None,
               unfinished_only: bool = False, limit: int = 100, instance_id: str | None = None) -> list[Operation]:
    """Operations, newest first, filtered by account, kind, image, instance, or unfinished ones only."""
    query = sa.select(_ops.c.operation_id)
    if instance_id is not None:
        query = query.where(_ops.c.instance_id == instance_id)
    if account is not None:
        query = query.where(_ops.c.account == account)
    if kind is not None:
        query = query.where(_ops.c.kind == kind)
    if image_id is not None:
        query = query.where(_ops.c.image_id == image_id)
    if unfinished_only:
        query = query.where(_ops.c.finished_at.is_(None))
    rows = ledger._read(query.order_by(_ops.c.started_at.desc(), _ops.c.operation_id.desc()).limit(limit))
    return [op for op in (get(ledger, row.operation_id) for row in rows) if op is not None]


def begin(ledger: Ledger, account: str, kind: str, key: str, plan: Sequence[StepPlan], *, owner: str,
          zone_id: str | None = None, instance_id: str | None = None, image_id: str | None = None,
          params: dict[str, Any] | None = None, facts: dict[str, Any] | None = None) -> Operation:
    """Write a new operation and its whole plan in one transaction, owned by ``owner``.
    :class:`sqlalchemy.exc.IntegrityError` when an unfinished operation of ``key`` exists."""
    stamp = now_text()
    operation_id = uuid.uuid4().hex
    with ledger._lock, ledger.engine.begin() as connection:
        connection.execute(_ops.insert().values(
            operation_id=operation_id, kind=kind, key=key, account=account, zone_id=zone_id, instance_id=instance_id,
            image_id=image_id, params=params or {}, facts=facts or {}, who=who_am_i(), **owner_fields(owner, at=stamp),
            started_at=stamp, updated_at=stamp))
        for position, planned in enumerate(plan):
            connection.execute(_steps.insert().values(
                operation_id=operation_id, position=position, kind=planned.kind, params=planned.params,
                always=planned.always, state=PLANNED, attempts=0, updated_at=stamp))
    found = get(ledger, operation_id)
    assert found is not None
    return found


def take_over(ledger: Ledger, operation: Operation, owner: str) -> Operation | None:
    """Become the owner if nobody has touched the operation since it was read (compare-and-set); else None."""
    same_owner = _ops.c.owner.is_(None) if operation.owner is None else _ops.c.owner == operation.owner
    same_beat = _ops.c.heartbeat_at.is_(None) if operation.heartbeat_at is None else _ops.c.heartbeat_at == operation.heartbeat_at
    result = ledger._write(_ops.update().where(_ops.c.operation_id == operation.operation_id, _ops.c.finished_at.is_(None),
                                               same_owner, same_beat).values(**owner_fields(owner)))
    return get(ledger, operation.operation_id) if result.rowcount == 1 else None


def beat(ledger: Ledger, operation_id: str, owner: str) -> bool:
    """The owner's heartbeat; False when another run holds the operation now."""
    result = ledger._write(_ops.update().where(_ops.c.operation_id == operation_id, _ops.c.owner == owner)
                           .values(heartbeat_at=now_text()))
    return result.rowcount == 1


def _fenced(connection: sa.Connection, operation_id: str, owner: str, **values: Any) -> None:
    """Update the operation only while ``owner`` holds it (the fence every step write goes through)."""
    result = connection.execute(_ops.update().where(_ops.c.operation_id == operation_id, _ops.c.owner == owner,
                                                    _ops.c.finished_at.is_(None)).values(**values))
    if result.rowcount != 1:
        raise LeaseLost(f"Operation {operation_id[:8]} was taken over by another run (or finished); this run sends "
                        "nothing more.")


def _set_step(ledger: Ledger, step: Step, owner: str, operation_values: dict[str, Any] | None = None,
              **values: Any) -> None:
    stamp = now_text()
    with ledger._lock, ledger.engine.begin() as connection:
        _fenced(connection, step.operation_id, owner, heartbeat_at=stamp, updated_at=stamp, **(operation_values or {}))
        connection.execute(_steps.update().where(_steps.c.operation_id == step.operation_id,
                                                 _steps.c.position == step.position).values(updated_at=stamp, **values))


def mark_sent(ledger: Ledger, step: Step, owner: str, settle_seconds: float) -> None:
    """BEFORE the step's request goes out: the time, one more attempt. :class:`LeaseLost` (nothing may be sent)
    when another run holds the operation."""
    _set_step(ledger, step, owner, state=SENT, sent_at=now_text(), attempts=_steps.c.attempts + 1,
              settle_seconds=settle_seconds)


def set_image(ledger: Ledger, operation_id: str, owner: str, image_id: str) -> None:
    """The image the operation made, as soon as its create answered (fenced: only the owner may)."""
    stamp = now_text()
    with ledger._lock, ledger.engine.begin() as connection:
        _fenced(connection, operation_id, owner, image_id=image_id, heartbeat_at=stamp, updated_at=stamp)


def note_evidence(ledger: Ledger, step: Step, owner: str, evidence: dict[str, Any]) -> None:
    """What a look after an unknown outcome saw (kept for the next run)."""
    _set_step(ledger, step, owner, evidence={**(step.evidence or {}), **evidence})


def mark_done(ledger: Ledger, step: Step, owner: str, result: dict[str, Any], facts: dict[str, Any]) -> None:
    """The step landed: its result, merged into the operation's facts."""
    _set_step(ledger, step, owner, {"facts": facts}, state=DONE, result=result, error_type=None, error_code=None)


def mark_failed(ledger: Ledger, step: Step, owner: str, error: BaseException) -> None:
    """The step failed for sure (refused, or its kind says so): the error's class and code only."""
    error_type, error_code = error_fields(error)
    _set_step(ledger, step, owner, state=FAILED, error_type=error_type, error_code=error_code)


def mark_skipped(ledger: Ledger, step: Step, owner: str) -> None:
    _set_step(ledger, step, owner, state=SKIPPED)


def back_to_planned(ledger: Ledger, step: Step, owner: str) -> None:
    """The evidence proved the sent request did not land (or it was refused unprocessed): it may be sent again."""
    _set_step(ledger, step, owner, state=PLANNED)


def finish(ledger: Ledger, operation: Operation, owner: str, outcome: str, error: BaseException | None = None,
           facts: dict[str, Any] | None = None) -> None:
    """Close the operation with ``outcome`` (the fence: only its owner may)."""
    error_type, error_code = error_fields(error)
    stamp = now_text()
    with ledger._lock, ledger.engine.begin() as connection:
        _fenced(connection, operation.operation_id, owner, outcome=outcome, error_type=error_type,
                error_code=error_code, finished_at=stamp, updated_at=stamp,
                **({} if facts is None else {"facts": facts}))


def is_integrity_error(error: BaseException) -> bool:
    return isinstance(error, exc.IntegrityError)


__all__ = ["DONE", "FAILED", "PLANNED", "SENT", "SKIPPED", "back_to_planned", "beat", "begin", "finish", "get", "get_many", "latest",
           "mark_done", "mark_failed", "mark_sent", "mark_skipped", "note_evidence", "operations", "set_image", "take_over",
           "unfinished"]
