"""Period windows of a policy: a run claims its window in the ledger, so two schedulers firing it run it once.

A period (``"12h"``, ``"1d"``, ...) cuts time into windows aligned to the Unix epoch (UTC): ``"1d"`` is each UTC
day, ``"12h"`` 00:00-12:00 and 12:00-24:00. :func:`claim_window` inserts the window's row (the table's primary key
decides a race: the second scheduler learns who ran it; a run that stopped with an error leaves its window to the
next firing, which retries it). The claimer also writes every window since the policy's
last one that nobody ran as ``missed`` (reported once); with ``catch_up`` the newest of them is run once now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy import exc

from .ledger import Ledger
from .ledger import schema as tables
from .ledger.records import now_text, parse_time
from .runs import ERROR  # a run that ended so leaves its window to be retried

CLAIMED, MISSED, CAUGHT_UP = "claimed", "missed", "caught up"
#: At most this many missed windows are written and listed (a policy idle for years is one message).
MAX_MISSED = 100
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PERIOD = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_period(text: object) -> timedelta | None:
    """``"12h"``, ``"1d"``, ``"30m"``, ``"1w"`` as a timedelta; ``""``/None: no window. ValueError otherwise."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    match = _PERIOD.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"period must be a whole number of minutes, hours, days or weeks such as \"12h\" or \"1d\" "
                         f"(or \"\" for none), not {text!r}")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def window_start(moment: datetime, period: timedelta) -> datetime:
    """The start of the window ``moment`` falls in."""
    seconds = int(period.total_seconds())
    elapsed = int((moment - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=elapsed - elapsed % seconds)


@dataclass(frozen=True)
class WindowClaim:
    """What a firing may do: ``claimed`` its ``window`` (else ``holder`` ran it); windows nobody ran (``missed``,
    reported by this claim only), and ``catch_up``: the missed window this firing runs once besides its own."""

    policy: str
    period: str
    window: str
    claimed: bool
    holder: str | None = None
    missed: tuple[str, ...] = ()
    catch_up: str | None = None
    windows: tuple[str, ...] = field(default=())  # the windows to run now, in order (catch-up first)
    retried: str | None = None  # the run this claim took the window over from (it stopped with an error)

    def message(self) -> str:
        if not self.claimed:
            return (f"Window {self.window} ({self.period}) of policy {self.policy} was already claimed by run "
                    f"{(self.holder or '?')[:8]}; nothing to do (exit 0).")
        text = f"Claimed window {self.window} ({self.period}) of policy {self.policy}."
        if self.retried:
            text += f" Run {self.retried[:8]} stopped with an error in this window: this run retries it."
        if self.missed:
            text += f" Missed window(s) nobody ran: {', '.join(self.missed)}."
        if self.catch_up:
            text += f" Catching up {self.catch_up} once first."
        return text


def _insert(ledger: Ledger, **values: object) -> bool:
    try:
        ledger._write(tables.run_windows.insert().values(at=now_text(), **values))
    except exc.IntegrityError:
        return False
    return True


def _retake(ledger: Ledger, account: str, policy: str, window: str, held_by: str | None, run_id: str) -> bool:
    """Take the window over from ``held_by`` when that run stopped with an error (nothing may be lost by a retry: an
    apply resumes its policy's unfinished run); a compare-and-set, so two retries cannot both win."""
    h, t = tables.run_history.c, tables.run_windows.c
    ended = ledger._read(sa.select(h.outcome).where(h.run_id == held_by)) if held_by else []
    if not ended or ended[0].outcome != ERROR:
        return False
    taken = ledger._write(tables.run_windows.update()
                          .where(t.account == account, t.policy == policy, t.window_start == window, t.run_id == held_by)
                          .values(run_id=run_id, at=now_text()))
    return bool(taken.rowcount == 1)


def claim_window(ledger: Ledger, account: str, policy: str, period: str, run_id: str, *, catch_up: bool = False,
                 now: datetime | None = None) -> WindowClaim | None:
    """Claim the window ``now`` falls in for ``run_id``; None when the policy has no ``period`` (always run)."""
    length = parse_period(period)
    if length is None:
        return None
    start = window_start(now or datetime.now(timezone.utc), length)
    window = now_text(start)
    t = tables.run_windows.c
    mine = (t.account == account) & (t.policy == policy)
    if not _insert(ledger, account=account, policy=policy, window_start=window, period=period, state=CLAIMED,
                   run_id=run_id):
        holder = ledger._read(sa.select(t.run_id).where(mine, t.window_start == window))
        held_by = holder[0].run_id if holder else None
        if not _retake(ledger, account, policy, window, held_by, run_id):
            return WindowClaim(policy, period, window, False, held_by)
        return WindowClaim(policy, period, window, True, run_id, windows=(window,), retried=held_by)
    earlier = ledger._read(sa.select(sa.func.max(t.window_start)).where(mine, t.window_start < window))
    missed: list[str] = []
    if earlier and earlier[0][0]:
        moment = parse_time(earlier[0][0]) + length
        while moment < start and len(missed) < MAX_MISSED:
            missed.append(now_text(moment))
            moment += length
    reported = tuple(m for m in missed if _insert(ledger, account=account, policy=policy, window_start=m,
                                                    period=period, state=MISSED, run_id=None))
    caught = reported[-1] if catch_up and reported else None
    if caught is not None:
        ledger._write(tables.run_windows.update().where(mine, t.window_start == caught)
                      .values(state=CAUGHT_UP, run_id=run_id, at=now_text()))
    return WindowClaim(policy, period, window, True, run_id, reported, caught,
                       ((caught,) if caught else ()) + (window,))
