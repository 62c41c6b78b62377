"""One apply of a policy at a time: the run's lease (owner token, host, pid, heartbeat) in the ledger.

A run is *held* while its owner heartbeats (every :data:`HEARTBEAT_SECONDS`). It is *abandoned* when
its process is gone from this host, or when its heartbeat is older than :data:`LEASE_SECONDS` (a
process on another host, or one that hangs). Only an abandoned run is resumed by another apply; a
held one makes a second apply raise :class:`PolicyBusy`, which has changed nothing. The database,
not a file lock, decides the races: one unfinished run per policy (a partial unique index), and a
take-over is a compare-and-set on the old owner and heartbeat. Heartbeats are the writers' clocks:
hosts sharing a PostgreSQL ledger should keep their clocks in sync (NTP) to well under the lease.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc

from ...api.errors import ZenlayerError
from ..ledger import Ledger, LedgerError
from ..ledger import schema as tables
from ..ledger.ownership import at_work, live_owners, new_owner, owner_fields
from ..ledger.records import now_text
from .records import Run, begin_run, get_run, unfinished_run

log = logging.getLogger("zenlayer_widgets.core.policy")

#: How often an applying run writes its heartbeat.
HEARTBEAT_SECONDS = 5.0
#: A run whose heartbeat is older than this is abandoned (another apply may resume it).
LEASE_SECONDS = 30.0


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


def _take_over(ledger: Ledger, run: Run, owner: str) -> Run | None:
    """Become ``run``'s owner if nobody has touched it since it was read; the run as now held, or None."""
    t = tables.policy_runs.c
    same_owner = t.owner.is_(None) if run.owner is None else t.owner == run.owner
    same_beat = t.heartbeat_at.is_(None) if run.heartbeat_at is None else t.heartbeat_at == run.heartbeat_at
    result = ledger._write(tables.policy_runs.update()
                           .where(t.run_id == run.run_id, t.finished_at.is_(None), same_owner, same_beat)
                           .values(**owner_fields(owner)))
    return get_run(ledger, run.run_id) if result.rowcount == 1 else None


def claim_run(ledger: Ledger, account: str, policy: str, name_prefix: str, stamp: str) -> tuple[Run, bool]:
    """The run this apply works on, held by it: the policy's abandoned unfinished run (resumed: True) or a new one.
    :class:`PolicyBusy` when a live apply holds the policy's run."""
    owner = new_owner()
    latest: Run | None = None
    for _ in range(5):  # each pass loses a race only to another apply that then holds the run
        latest = unfinished_run(ledger, account, policy)
        if latest is None:
            try:
                run = begin_run(ledger, account, policy, name_prefix, stamp, owner=owner)
            except exc.IntegrityError:  # another apply began one in between
                continue
            live_owners.add(owner)
            return run, False
        if held_by_another(latest):
            raise PolicyBusy(latest)
        taken = _take_over(ledger, latest, owner)
        if taken is not None:
            live_owners.add(owner)
            return taken, True
    assert latest is not None
    raise PolicyBusy(latest)


def _beat(ledger: Ledger, run: Run) -> bool:
    t = tables.policy_runs.c
    result = ledger._write(tables.policy_runs.update().where(t.run_id == run.run_id, t.owner == run.owner)
                           .values(heartbeat_at=now_text()))
    return result.rowcount == 1


class LeaseLost(ZenlayerError):
    """Another apply took this run over (its heartbeat had stalled past the lease); this one deletes nothing more."""

    def __init__(self, run: Run) -> None:
        self.run = run
        super().__init__(f"Run {run.run_id[:8]} of policy {run.policy} was taken over by another apply (this one's "
                         f"heartbeat had stalled past {LEASE_SECONDS:.0f} s); it deleted nothing more.")


def ensure_held(ledger: Ledger, run: Run) -> None:
    """Before a delete: renew the lease, or :class:`LeaseLost` when another apply holds the run now (a fence)."""
    if run.owner is not None and not _beat(ledger, run):
        raise LeaseLost(run)


@asynccontextmanager
async def holding(ledger: Ledger, run: Run) -> AsyncIterator[Run]:
    """Keep ``run``'s lease alive (a heartbeat every :data:`HEARTBEAT_SECONDS`) while the block runs; released after."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                kept = _beat(ledger, run)
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

