"""One request budget per account for every worker on a ledger: a token bucket row taken with an atomic UPDATE.

:class:`LedgerBucket` is a :class:`~zenlayer_widgets.api.throttle.RateLimiter` (give it to a client as its
``rate_limiter``). Its state is one ``zw_rate_buckets`` row per account: ``tokens`` at ``updated_at``. Taking a token
is a single ``UPDATE ... WHERE <refilled tokens> >= 1``: the row lock makes concurrent takers queue, never both win
the last token. On PostgreSQL the time is the database's own clock (``clock_timestamp()``), so workers on machines
whose clocks differ still share one rate; on SQLite (one machine) it is this computer's. A 429 empties the bucket
for everyone.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ...api.throttle import TakingLimiter, check_rate
from ..ledger import Ledger
from ..ledger import schema as tables


class LedgerBucket(TakingLimiter):
    """``rate`` requests per second for ``account``, shared through ``ledger`` by every process using it.

    The bucket holds at most ``capacity`` tokens (default half a second's worth, at least 1: a burst that leaves room
    for the server's own bucket being out of phase with this one). Opening it with another
    rate changes the account's rate for every worker (the last one given wins)."""

    def __init__(self, ledger: Ledger, account: str, rate: float, capacity: float | None = None) -> None:
        self.ledger = ledger
        self.account = account
        self.rate = check_rate(rate)
        self.capacity = max(self.rate / 2, 1.0) if capacity is None else check_rate(capacity, "capacity")
        self._postgres = ledger.engine.dialect.name == "postgresql"
        #: Requests this process let through, and 429s it heard of.
        self.granted = 0
        self.throttles = 0
        self._ensure_row()

    def _now(self) -> sa.ColumnElement[float]:
        if self._postgres:
            return sa.cast(sa.func.extract("epoch", sa.func.clock_timestamp()), sa.Float)
        return sa.literal(time.time(), sa.Float)

    def _ensure_row(self) -> None:
        t = tables.rate_buckets
        with self.ledger._lock, self.ledger.engine.begin() as connection:
            now = connection.execute(sa.select(self._now())).scalar_one()
            changed = connection.execute(t.update().where(t.c.account == self.account)
                                         .values(rate=self.rate, capacity=self.capacity)).rowcount
            if not changed:
                insert = postgresql.insert(t) if self._postgres else sqlite.insert(t)
                connection.execute(insert.values(account=self.account, rate=self.rate, capacity=self.capacity,
                                                 tokens=self.capacity, updated_at=now).on_conflict_do_nothing())

    def take(self) -> float:
        """Take a token: 0.0 when taken, else the seconds to wait before asking again (one atomic statement)."""
        t = tables.rate_buckets.c
        now = self._now()
        least = sa.func.least if self._postgres else sa.func.min
        greatest = sa.func.greatest if self._postgres else sa.func.max
        refilled = least(t.capacity, t.tokens + greatest(now - t.updated_at, 0.0) * t.rate)
        with self.ledger._lock, self.ledger.engine.begin() as connection:
            taken = connection.execute(tables.rate_buckets.update()
                                       .where(t.account == self.account, refilled >= 1.0)
                                       .values(tokens=refilled - 1.0, updated_at=greatest(now, t.updated_at))).rowcount
            if taken:
                self.granted += 1
                return 0.0
            short = connection.execute(sa.select(1.0 - refilled, t.rate).where(t.account == self.account)).one()
        return max(float(short[0]), 0.0) / float(short[1]) + 0.001

    def throttled(self, retry_after: float | None = None) -> None:
        """A 429: the bucket is emptied (minus ``retry_after``'s worth) for every worker."""
        t = tables.rate_buckets.c
        self.throttles += 1
        debt = max(retry_after or 0.0, 0.0) * self.rate
        self.ledger._write(tables.rate_buckets.update().where(t.account == self.account)
                           .values(tokens=-debt, updated_at=self._now()))

    def __repr__(self) -> str:
        return f"LedgerBucket({self.account!r}, rate={self.rate:g}, on {self.ledger!r})"
