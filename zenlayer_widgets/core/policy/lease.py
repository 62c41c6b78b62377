"""One apply of a policy at a time: the run's lease is its ``rotation`` operation's (core/operations).

A run is *held* while its owner heartbeats (every :data:`HEARTBEAT_SECONDS`). It is *abandoned* when
its process is gone from this host, or when its heartbeat is older than :data:`LEASE_SECONDS` (a
process on another host, or one that hangs). Only an abandoned run is resumed by another apply; a
held one makes a second apply raise :class:`PolicyBusy`, which has changed nothing. The database,
not a file lock, decides the races: one unfinished operation per key (a partial unique index), and a
take-over is a compare-and-set on the old owner and heartbeat (:func:`..operations.claim`). Heartbeats are the
writers' clocks: hosts sharing a PostgreSQL ledger should keep their clocks in sync (NTP) to well under the lease.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc

from ...api.errors import ZenlayerError
from ..ledger import Ledger, LedgerError
from ..ledger.ownership import at_work, live_owners
from ..operations import HEARTBEAT_SECONDS, LEASE_SECONDS, OperationBusy, OperationError, claim, store
from .records import RUN_KIND, Run, run_key, run_of

log = logging.getLogger("zenlayer_widgets.core.policy")

__all__ = ["HEARTBEAT_SECONDS", "LEASE_SECONDS", "LeaseLost", "PolicyBusy", "claim_run", "ensure_held", "finish_run",
           "held_by_another", "holding"]


class PolicyBusy(ZenlayerError):
    """Another apply of the same policy holds its run; this one changed nothing."""

    def __init__(self, run: Run) -> None:
        self.run = run
        where = f" on {run.owner_host} (pid {run.owner_pid})" if run.owner_host else ""
        super().__init__(
            f"Policy {run.policy} is being applied by {run.who}{where}: run {run.run_id[:8]} started {run.started_at}, "
            f"last heartbeat {run.heartbeat_at}. This apply changed nothing; let that one finish (or run again "
            f"{LEASE_SECONDS:.0f} s after it stopped: its work is then resumed, not repeated).")

    def _render_traceback_(self) -> list[str]:  # IPython's hook: the reason is the whole story
        return [f"PolicyBusy: {self}"]


def held_by_another(run: Run, *, now: float | None = None) -> bool:
    """Whether a live apply (not this caller) holds ``run``."""
    if run.owner is None or run.heartbeat_at is None:  # a run written before leases existed: resumable
        return False
    return at_work(run.owner, run.owner_host, run.owner_pid, run.heartbeat_at, LEASE_SECONDS, process=run.owner_process,
                   now=now)


def claim_run(ledger: Ledger, account: str, policy: str, name_prefix: str, stamp: str) -> tuple[Run, bool]:
    """The run this apply works on, held by it: the policy's abandoned unfinished run (resumed: True) or a new one.
    :class:`PolicyBusy` when a live apply holds the policy's run."""
    try:
        operation, owner, resumed = claim(ledger, account, RUN_KIND, run_key(policy), list, lease_seconds=LEASE_SECONDS,
                                          params={"policy": policy, "name_prefix": name_prefix, "stamp": stamp})
    except OperationBusy as busy:
        raise PolicyBusy(run_of(busy.operation)) from None
    live_owners.add(owner)  # at work from now on (holding() keeps it so until the run ends)
    return run_of(operation), resumed


class LeaseLost(ZenlayerError):
    """Another apply took this run over (its heartbeat had stalled past the lease); this one deletes nothing more."""

    def __init__(self, run: Run) -> None:
        self.run = run
        super().__init__(f"Run {run.run_id[:8]} of policy {run.policy} was taken over by another apply (this one's "
                         f"heartbeat had stalled past {LEASE_SECONDS:.0f} s); it deleted nothing more.")


def ensure_held(ledger: Ledger, run: Run) -> None:
    """Before a delete: renew the lease, or :class:`LeaseLost` when another apply holds the run now (a fence)."""
    if run.owner is not None and not store.beat(ledger, run.run_id, run.owner):
        raise LeaseLost(run)


def finish_run(ledger: Ledger, run: Run, outcome: str) -> bool:
    """Close the run with ``outcome``, if this apply still holds it (False: another apply took it over)."""
    found = store.get(ledger, run.run_id)
    if found is None or run.owner is None:
        return False
    try:
        store.finish(ledger, found, run.owner, outcome)
    except OperationError:  # the fence: another apply holds the run now
        return False
    return True


@asynccontextmanager
async def holding(ledger: Ledger, run: Run) -> AsyncIterator[Run]:
    """Keep ``run``'s lease alive (a heartbeat every :data:`HEARTBEAT_SECONDS`) while the block runs; released after."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                kept = run.owner is not None and store.beat(ledger, run.run_id, run.owner)
            except (exc.SQLAlchemyError, LedgerError) as error:  # the ledger's reads and writes raise LedgerError
                log.warning("policy %s: the heartbeat could not be written (%s)", run.policy, type(error).__name__)
                continue
            if not kept:
                log.warning("policy %s: run %s was taken over by another apply", run.policy, run.run_id[:8])
                return

    task = asyncio.ensure_future(beat())
    try:
        yield run
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if run.owner is not None:
            live_owners.discard(run.owner)
