"""The one driver: begins, runs, resumes and takes over operations, step by step.

* **Write before send.** An operation is written with its whole plan before its first request; each step is
  marked ``sent`` (a compare-and-set on the owner: the fence) before its request goes out.
* **Never blind.** A step found ``sent`` (a lost answer, a timeout, a kill) is reconciled on its kind's
  evidence: landed (done, not sent again), proven not landed once its settle window is over (sent again), or
  unknown (:class:`StepOutcomeUnknown`: nothing sent; the next run looks again). Idempotent kinds (reads,
  waits, probes) are simply run again. A 429 proves the request was not processed: it is sent again after a
  backoff.
* **One owner.** The run holding an operation heartbeats (core/ledger/ownership.py says who is still at
  work); a second run of the same key while it lives raises :class:`OperationBusy`; once it is gone (its
  process dead on this host, or its heartbeat older than :data:`LEASE_SECONDS`) the next run takes over.
* **Clean-ups run.** After a step fails, the rest are skipped except clean-ups (``always``), e.g. releasing a
  throwaway instance; the operation then finishes ``failed`` with the first failure's class and code.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ...api.errors import APIError, RateLimited, TransportError
from ..ledger.ownership import at_work, new_owner, working
from ..ledger.records import parse_time
from ..reconcile import MAX_RECONCILE_WINDOWS, RECONCILE_LOOKUPS, settle_seconds
from . import store
from .model import (
    DONE,
    FAILED,
    OPERATION_FAILED,
    SENT,
    SKIPPED,
    SUCCEEDED,
    Operation,
    OperationBusy,
    OperationError,
    Step,
    StepFailed,
    StepOutcomeUnknown,
    StepPlan,
)
from .steps import KINDS, Evidence, StepKind, StepRun
from .steps.base import Sleep

if TYPE_CHECKING:
    from ...api.client import AsyncZenlayerClient
    from ..ledger import Ledger

#: How often the run holding an operation writes its heartbeat.
HEARTBEAT_SECONDS = 5.0
#: An operation whose heartbeat is older than this (its owner elsewhere) may be taken over.
LEASE_SECONDS = 30.0
#: How many 429s / failed reads in a row a step takes before it fails.
STEP_TRIES = 5


def held_by_another(operation: Operation, *, lease_seconds: float = LEASE_SECONDS) -> bool:
    """Whether a live run (not this caller) holds ``operation``."""
    if operation.owner is None or operation.heartbeat_at is None:
        return False
    return at_work(operation.owner, operation.owner_host, operation.owner_pid, operation.heartbeat_at, lease_seconds,
                   process=operation.owner_process)


def _seconds_since(text: str | None) -> float:
    return float("inf") if not text else (datetime.now(timezone.utc) - parse_time(text)).total_seconds()


def settled(step: Step) -> bool:
    """Whether a lost request of ``step`` can no longer land (never sent counts as settled)."""
    return _seconds_since(step.sent_at) > (step.settle_seconds or 0.0)


def claim(ledger: Ledger, account: str, kind: str, key: str, plan: Callable[[], Sequence[StepPlan]], *,
          lease_seconds: float = LEASE_SECONDS, **fields: Any) -> tuple[Operation, str, bool]:
    """The operation of ``key`` at ``account``, held by a new owner: the unfinished one (taken over: resumed True) or
    a new one (``plan()`` is only called then). :class:`OperationBusy` while a live run holds it."""
    owner = new_owner()
    existing: Operation | None = None
    for _ in range(5):  # each pass loses a race only to another run that then holds the operation
        existing = store.unfinished(ledger, account, key)
        if existing is None:
            try:
                return store.begin(ledger, account, kind, key, plan(), owner=owner, **fields), owner, False
            except Exception as error:
                if store.is_integrity_error(error):
                    continue
                raise
        if held_by_another(existing, lease_seconds=lease_seconds):
            raise OperationBusy(existing)
        taken = store.take_over(ledger, existing, owner)
        if taken is not None:
            return taken, owner, True
    assert existing is not None
    raise OperationBusy(existing)


def _backoff(attempt: int) -> float:
    return min(0.5 * 2.0**attempt, 4.0)


@dataclass
class Driver:
    """Runs operations for one client and ledger (``account`` is what they are filed under). ``extras`` are
    values the step kinds may use but the ledger cannot hold (a probe callable, the poll interval)."""

    client: AsyncZenlayerClient
    ledger: Ledger
    account: str
    sleep: Sleep = asyncio.sleep
    extras: Mapping[str, Any] = field(default_factory=dict)
    settle: float | None = None  # seconds a lost request may still land (default: from the client's timeout)
    lease_seconds: float = LEASE_SECONDS
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    clock: Callable[[], float] = time.monotonic
    failure: BaseException | None = field(default=None, init=False)  # the first step error of the last drive

    # ------------------------------------------------------------------------- claiming

    def claim(self, kind: str, key: str, plan: Callable[[], Sequence[StepPlan]], **fields: Any) -> tuple[Operation, str, bool]:
        """The operation of ``key``, held by a new owner: the unfinished one (taken over: resumed True) or a new one
        (``plan()`` is only called then). :class:`OperationBusy` while a live run holds it."""
        return claim(self.ledger, self.account, kind, key, plan, lease_seconds=self.lease_seconds, **fields)

    async def run(self, kind: str, key: str, plan: Callable[[], Sequence[StepPlan]], **fields: Any) -> Operation:
        """Claim (begin or resume) the operation of ``key`` and drive it to its end."""
        operation, owner, _ = self.claim(kind, key, plan, **fields)
        return await self.drive(operation, owner)

    # ------------------------------------------------------------------------- driving

    async def drive(self, operation: Operation, owner: str) -> Operation:
        """Run ``operation``'s remaining steps as ``owner`` (who must hold it); the operation as finished.
        :class:`StepOutcomeUnknown` / :class:`LeaseLost` leave it unfinished (the next run goes on)."""
        with working(owner):
            beat = asyncio.ensure_future(self._heartbeat(operation.operation_id, owner))
            try:
                return await self._steps(operation, owner)
            finally:
                beat.cancel()
                await asyncio.gather(beat, return_exceptions=True)

    async def _heartbeat(self, operation_id: str, owner: str) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            if not await asyncio.to_thread(store.beat, self.ledger, operation_id, owner):
                return

    def _fresh(self, operation_id: str) -> Operation:
        found = store.get(self.ledger, operation_id)
        if found is None:
            raise OperationError(f"Operation {operation_id[:8]} is no longer in the ledger {self.ledger}.")
        return found

    async def _steps(self, operation: Operation, owner: str) -> Operation:
        failure: BaseException | None = None
        for position in range(len(operation.steps)):
            operation = self._fresh(operation.operation_id)
            step = operation.steps[position]
            if step.state in (DONE, SKIPPED):
                continue
            if step.state == FAILED:
                failure = failure or StepFailed(step.error_code or step.error_type or "FAILED", "an earlier step failed")
                continue
            if failure is not None and not step.always:
                store.mark_skipped(self.ledger, step, owner)
                continue
            try:
                result = await self._run_step(operation, step, owner)
            except (StepFailed, APIError, TransportError, TimeoutError, KeyError) as error:
                if isinstance(error, (APIError, TransportError)) and error.outcome_unknown:
                    raise  # not decided: _run_step reconciles lost answers; this is its unknown verdict
                store.mark_failed(self.ledger, step, owner, error)
                failure = self.failure = failure or error
                continue
            latest = self._fresh(operation.operation_id)
            store.mark_done(self.ledger, step, owner, result, {**latest.facts, **result})
        store.finish(self.ledger, operation, owner, OPERATION_FAILED if failure else SUCCEEDED, failure)
        return self._fresh(operation.operation_id)

    def _step_run(self, operation: Operation, step: Step) -> StepRun:
        return StepRun(self.client, self.ledger, self.account, operation, step, self.sleep, self.extras)

    def _current(self, operation: Operation, step: Step) -> tuple[Operation, Step]:
        operation = self._fresh(operation.operation_id)
        return operation, operation.steps[step.position]

    async def _run_step(self, operation: Operation, step: Step, owner: str) -> dict[str, Any]:
        kind: StepKind = KINDS[step.kind]
        if step.state == SENT and not kind.idempotent:  # an earlier run sent it and never heard back
            evidence = await self._settle(operation, step, kind, owner, "an earlier run was cut off")
            if evidence.landed:
                return evidence.result
            store.back_to_planned(self.ledger, step, owner)
        settle = self.settle if self.settle is not None else settle_seconds(self.client)
        for attempt in range(STEP_TRIES):
            store.mark_sent(self.ledger, step, owner, settle)
            operation, step = self._current(operation, step)
            try:
                return await kind.send(self._step_run(operation, step))
            except RateLimited:  # 429: the request was not processed
                if attempt + 1 == STEP_TRIES:
                    raise
                store.back_to_planned(self.ledger, step, owner)
            except (TransportError, APIError) as error:
                if not error.outcome_unknown:
                    raise
                if kind.idempotent:
                    if attempt + 1 == STEP_TRIES:
                        raise
                else:
                    evidence = await self._settle(operation, step, kind, owner, type(error).__name__)
                    if evidence.landed:
                        return evidence.result
                    store.back_to_planned(self.ledger, step, owner)  # proven not landed: it may go again
            await self.sleep(_backoff(attempt))
            operation, step = self._current(operation, step)
        raise StepFailed("TOO_MANY_TRIES", f"Step {step.kind} was tried {STEP_TRIES} times.")

    async def _settle(self, operation: Operation, step: Step, kind: StepKind, owner: str, cause: str) -> Evidence:
        """Look until the evidence decides (landed, or proven not landed once settled); else StepOutcomeUnknown."""
        started = self.clock()
        budget = MAX_RECONCILE_WINDOWS * max(step.settle_seconds or 0.0, 1.0)
        failures = 0
        while True:
            operation, step = self._current(operation, step)
            try:
                evidence = await kind.look(self._step_run(operation, step))
                failures = 0
            except (TransportError, APIError) as error:
                failures += 1
                if failures >= RECONCILE_LOOKUPS:
                    raise StepOutcomeUnknown(operation, step, f"{cause}; the lookups failed ({type(error).__name__})") from None
                await self.sleep(_backoff(failures - 1))
                continue
            store.note_evidence(self.ledger, step, owner, {**evidence.seen, "reason": evidence.reason})
            if evidence.landed:
                return evidence
            if evidence.landed is None:
                raise StepOutcomeUnknown(operation, step, evidence.reason)
            if settled(step):
                return evidence
            if self.clock() - started > budget:
                raise StepOutcomeUnknown(operation, step, f"{cause}; {evidence.reason} and a request may still land")
            await self.sleep(min(1.0, max((step.settle_seconds or 0.0) / 10, 0.05)))
