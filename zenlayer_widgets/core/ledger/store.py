"""The ledger: CreateImage intents and every action the package takes, in SQLite or PostgreSQL.

A :class:`Ledger` wraps one SQLAlchemy engine. Intents are rows updated in place; actions are
appended. The database, not a file lock, keeps two runs from sending the same create: a second
open intent for the same (account, zone, image name) or the same instance is refused by a
partial unique index, and only the intent's *owner* may mark it sent (a compare-and-set).
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc

from ...rules import AVAILABLE, UNAVAILABLE
from . import schema
from .accounts import unattributed
from .engine import make_engine, sqlite_file_url
from .migrations import SchemaTooNew, migrate
from .ownership import owner_fields
from .records import (
    ACTION_KINDS,
    ADOPTED,
    AVAILABLE_OUTCOME,
    FAILED,
    FINAL_OUTCOMES,
    PRUNE_ACTIONS_AFTER_DAYS,
    PRUNE_CLOSED_INTENTS_AFTER_DAYS,
    SUBMITTED,
    TIMEOUT,
    Action,
    ForeignIntent,
    IntentConflict,
    LedgerEntry,
    LedgerError,
    NotOwner,
    current_run,
    entry_from_row,
    error_fields,
    now_text,
    who_am_i,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..progress import ImageProgress

log = logging.getLogger("zenlayer_widgets.core.ledger")


class Ledger:
    """Intents and actions in one database: ``Ledger(None)`` a private in-memory SQLite ledger, ``Ledger(path)``
    a SQLite file, ``Ledger("postgresql://...")`` PostgreSQL (any SQLAlchemy URL)."""

    def __init__(self, url: str | sa.URL | os.PathLike[str] | None = None, *, engine: sa.Engine | None = None) -> None:
        if isinstance(url, os.PathLike):
            try:
                url = sqlite_file_url(url)
            except OSError as error:
                raise LedgerError(f"The ledger file {os.fspath(url)} cannot be created ({type(error).__name__}); "
                                  "nothing was sent. Point ZENLAYER_JOURNAL at a writable file.") from None
        self.engine = engine or make_engine(url or "sqlite://")
        self._url = self.engine.url
        self._lock = threading.RLock()  # one writer per process at a time on a shared in-memory connection
        try:
            self.version = migrate(self.engine)
        except SchemaTooNew as error:
            raise LedgerError(f"The ledger {self} cannot be opened: {error}") from None
        except exc.SQLAlchemyError as error:
            raise LedgerError(
                f"The ledger {self} cannot be opened ({type(error).__name__}); nothing was sent. "
                "Point ZENLAYER_JOURNAL at a writable file or a reachable PostgreSQL server."
            ) from None

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return self._url.render_as_string(hide_password=True)

    @property
    def in_memory(self) -> bool:
        return self._url.get_backend_name() == "sqlite" and self._url.database in (None, "", ":memory:")

    @property
    def path(self) -> str | None:
        """The SQLite file, if the ledger is one."""
        return None if self.in_memory or self._url.get_backend_name() != "sqlite" else self._url.database

    def __repr__(self) -> str:
        return f"Ledger({'in memory' if self.in_memory else self.url})"

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------------------ plumbing

    def _write(self, statement: Any) -> sa.CursorResult[Any]:
        """Run one write; :class:`LedgerError` (never a raw SQLAlchemy error) when the database fails, but an
        IntegrityError as it is (:meth:`begin` makes it an :class:`IntentConflict`)."""
        try:
            with self._lock, self.engine.begin() as connection:
                return connection.execute(statement)
        except exc.IntegrityError:
            raise
        except exc.SQLAlchemyError as error:
            raise self._unusable("written", error) from None

    def _read(self, statement: Any) -> list[sa.Row[Any]]:
        """Run one read; :class:`LedgerError` when the database fails."""
        try:
            with self._lock, self.engine.connect() as connection:
                return list(connection.execute(statement))
        except exc.SQLAlchemyError as error:
            raise self._unusable("read", error) from None

    def _unusable(self, how: str, error: BaseException) -> LedgerError:
        return LedgerError(
            f"The ledger {self} cannot be {how} ({type(error).__name__}). "
            "Point ZENLAYER_JOURNAL at a writable file or a reachable PostgreSQL server, or set ZENLAYER_JOURNAL=off."
        )

    # ------------------------------------------------------------------------------ intents

    def begin(
        self, account: str, instance_id: str, zone_id: str, image_name: str, description: str | None, *,
        snapshot: dict[str, Any] | None = None, settle_seconds: float | None = None, owner: str | None = None,
    ) -> LedgerEntry:
        """Record an intent before CreateImage is sent. :class:`IntentConflict` when another open intent holds
        the name in the zone or the instance; :class:`LedgerError` when it cannot be written (nothing sent)."""
        stamp = now_text()
        values = {
            "intent_id": uuid.uuid4().hex, "account": account, "zone_id": zone_id, "instance_id": instance_id,
            "image_name": image_name, "description": description, "is_open": True, "adopted": False,
            "who": who_am_i(), **owner_fields(owner or uuid.uuid4().hex, at=stamp), "started_at": stamp,
            "updated_at": stamp, "attempts": 0, "snapshot": snapshot, "settle_seconds": settle_seconds,
        }
        try:
            self._write(schema.intents.insert().values(**values))
        except exc.IntegrityError:
            existing = self.blocking_intent(account, zone_id, image_name, instance_id)
            if existing is None:  # it closed meanwhile: try once more
                return self.begin(account, instance_id, zone_id, image_name, description, snapshot=snapshot,
                                  settle_seconds=settle_seconds, owner=owner)
            raise IntentConflict(existing) from None
        except LedgerError as error:
            raise LedgerError(f"{error} Nothing was sent.") from None
        return self.get(str(values["intent_id"]))  # type: ignore[return-value]

    def get(self, intent_id: str) -> LedgerEntry | None:
        rows = self._read(sa.select(schema.intents).where(schema.intents.c.intent_id == intent_id))
        return entry_from_row(rows[0]) if rows else None

    def blocking_intent(self, account: str, zone_id: str, image_name: str, instance_id: str) -> LedgerEntry | None:
        """The open intent holding this name in the zone or this instance, if any."""
        t = schema.intents.c
        rows = self._read(sa.select(schema.intents).where(
            t.is_open, t.account == account,
            sa.or_(sa.and_(t.zone_id == zone_id, t.image_name == image_name), t.instance_id == instance_id)))
        return entry_from_row(rows[0]) if rows else None

    def _update(self, intent_id: str, *conditions: Any, **values: Any) -> bool:
        t = schema.intents.c
        result = self._write(schema.intents.update().where(t.intent_id == intent_id, *conditions).values(**values))
        return result.rowcount == 1

    def mark_sent(self, intent_id: str, owner: str) -> None:
        """Before CreateImage goes out: note the time (a lost request may land until ``sent_at + settle``).
        :class:`NotOwner` when another run has taken the intent over (then nothing may be sent)."""
        t = schema.intents.c
        stamp = now_text()
        try:
            marked = self._update(intent_id, t.owner == owner, t.is_open, sent_at=stamp, heartbeat_at=stamp,
                                  updated_at=stamp, attempts=t.attempts + 1)
        except LedgerError as error:
            raise LedgerError(f"{error} Nothing was sent.") from None
        if not marked:
            raise NotOwner(f"Intent {intent_id} was taken over by another run (or closed); this run sends nothing.")

    def touch(self, intent_id: str, owner: str) -> bool:
        """Heartbeat of the owner (a run that stops touching its intent becomes stale and can be taken over)."""
        t = schema.intents.c
        return self._update(intent_id, t.owner == owner, heartbeat_at=now_text())

    def take_over(self, entry: LedgerEntry, owner: str, *, account: str) -> bool:
        """Become the owner of ``entry`` if nobody has touched it since it was read (compare-and-set). ``account``:
        the caller's; :class:`ForeignIntent` (nothing changed) when the intent is another account's."""
        if entry.account != account:
            raise ForeignIntent(entry.intent_id, entry.account, account)
        t = schema.intents.c
        return self._update(entry.intent_id, t.account == account, t.owner == entry.owner,
                            t.heartbeat_at == entry.heartbeat_at, t.is_open, **owner_fields(owner))

    def note_evidence(self, intent_id: str, evidence: dict[str, Any]) -> None:
        """Merge what a reconcile saw into the intent (kept for the next run)."""
        entry = self.get(intent_id)
        merged = {**((entry.evidence if entry else None) or {}), **evidence}
        self._update(intent_id, evidence=merged, updated_at=now_text())

    def record(
        self, intent_id: str, outcome: str, *, account: str, image_id: str | None = None, request_id: str | None = None,
        status: str | None = None, adopted: bool = False, error: BaseException | None = None,
    ) -> None:
        """Record an outcome (final ones close the intent) and append it to the actions. ``account``: the caller's
        (``account_of(client)``); an intent of another account is refused with :class:`ForeignIntent` and nothing
        is written. A failure to write only warns: the create itself went through."""
        error_type, error_code = error_fields(error)
        values: dict[str, Any] = {"outcome": outcome, "status": status, "adopted": adopted, "error_type": error_type,
                                  "error_code": error_code, "updated_at": now_text(), "is_open": outcome not in FINAL_OUTCOMES}
        if image_id is not None:
            values["image_id"] = image_id
        if request_id is not None:
            values["request_id"] = request_id
        try:
            with self._lock, self.engine.begin() as connection:
                t = schema.intents.c
                row = connection.execute(sa.select(schema.intents).where(t.intent_id == intent_id)).first()
                if row is None:
                    return
                if row.account != account:
                    raise ForeignIntent(intent_id, row.account, account)
                connection.execute(schema.intents.update().where(t.intent_id == intent_id, t.account == account)
                                   .values(**values))
                connection.execute(schema.actions.insert().values(
                    at=values["updated_at"], kind="create", account=row.account, zone_id=row.zone_id,
                    instance_id=row.instance_id, image_id=image_id or row.image_id, image_name=row.image_name,
                    request_id=request_id or row.request_id, outcome=outcome, who=who_am_i(), intent_id=intent_id,
                    detail=error_code or error_type, run_id=current_run.get()))
        except ForeignIntent:
            raise  # a refusal, not a failure of the ledger
        except (exc.SQLAlchemyError, LedgerError) as problem:
            message = f"The ledger {self} could not record outcome {outcome!r} ({type(problem).__name__})."
            log.warning(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)

    def record_progress(self, intent_id: str, progress: ImageProgress, *, account: str) -> None:
        """Record where a create stands (as :meth:`record`, for ``account``): AVAILABLE and UNAVAILABLE are final,
        anything else stays open."""
        if progress.status == AVAILABLE:
            outcome = AVAILABLE_OUTCOME
        elif progress.status == UNAVAILABLE:
            outcome = FAILED
        elif progress.phase == "timeout":
            outcome = TIMEOUT
        else:
            outcome = ADOPTED if progress.adopted else SUBMITTED
        self.record(intent_id, outcome, account=account, image_id=progress.image_id, request_id=progress.request_id,
                    status=progress.status, adopted=progress.adopted)

    def entries(self, account: str | None = None, *, open_only: bool = False, limit: int | None = None) -> list[LedgerEntry]:
        """Intents, oldest first (only ``account``'s when given); :class:`LedgerError` when unreadable."""
        t = schema.intents.c
        query = sa.select(schema.intents)
        if account is not None:
            query = query.where(t.account == account)
        if open_only:
            query = query.where(t.is_open)
        if limit is not None:
            query = query.order_by(t.started_at.desc(), t.intent_id.desc()).limit(limit)
        else:
            query = query.order_by(t.started_at, t.intent_id)
        try:
            rows = [entry_from_row(row) for row in self._read(query)]
        except exc.SQLAlchemyError as error:
            raise self._unusable("read", error) from None
        return rows[::-1] if limit is not None else rows

    def open_intent(self, account: str, instance_id: str, image_name: str) -> LedgerEntry | None:
        """The open intent for this instance and name at ``account``, if there is one."""
        t = schema.intents.c
        try:
            rows = self._read(sa.select(schema.intents).where(
                t.is_open, t.account == account, t.instance_id == instance_id, t.image_name == image_name))
        except exc.SQLAlchemyError as error:
            raise self._unusable("read", error) from None
        return entry_from_row(rows[0]) if rows else None

    def claimed_image_ids(self, account: str, zone_id: str, image_ids: Iterable[str], *, besides: str | None = None) -> set[str]:
        """Which of ``image_ids`` another intent in this zone already owns (never someone else's to adopt)."""
        wanted = sorted(set(image_ids))
        if not wanted:
            return set()
        t = schema.intents.c
        query = sa.select(t.image_id).where(t.account == account, t.zone_id == zone_id, t.image_id.in_(wanted))
        if besides is not None:
            query = query.where(t.intent_id != besides)
        return {row.image_id for row in self._read(query)}

    def to_frame(self, account: str | None = None, limit: int = 500) -> pd.DataFrame:
        """The latest intents as a table, newest first (for a runbook's output)."""
        import pandas as pd

        columns = ["started", "instance_id", "zone", "image_name", "outcome", "image_id", "status", "adopted",
                   "request_id", "error", "updated", "who", "account"]
        rows = [
            [e.started_at, e.instance_id, e.zone_id, e.image_name, e.outcome or "(none)", e.image_id, e.status, e.adopted,
             e.request_id, (e.error or {}).get("code") or (e.error or {}).get("type"), e.updated_at, e.who, e.account]
            for e in reversed(self.entries(account, limit=limit))
        ]
        return pd.DataFrame(rows, columns=columns)

    # ------------------------------------------------------------------------------ actions

    def record_action(
        self, kind: str, *, account: str, outcome: str, zone_id: str | None = None, instance_id: str | None = None,
        image_id: str | None = None, image_name: str | None = None, request_id: str | None = None,
        detail: str | None = None, intent_id: str | None = None,
    ) -> None:
        """Append one action (``kind`` in :data:`ACTION_KINDS`). A failure to write only warns: the action happened."""
        if kind not in ACTION_KINDS:
            raise ValueError(f"kind must be one of {', '.join(ACTION_KINDS)}, not {kind!r}")
        try:
            self._write(schema.actions.insert().values(
                at=now_text(), kind=kind, account=account, zone_id=zone_id, instance_id=instance_id, image_id=image_id,
                image_name=image_name, request_id=request_id, outcome=outcome, who=who_am_i(), intent_id=intent_id,
                detail=detail, run_id=current_run.get()))
        except (exc.SQLAlchemyError, LedgerError) as problem:
            message = f"The ledger {self} could not record the {kind} of {instance_id or image_id} ({type(problem).__name__})."
            log.warning(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)

    def history(self, account: str | None = None, *, kinds: Iterable[str] | None = None, instance_id: str | None = None,
                image_id: str | None = None, run_id: str | None = None, limit: int = 100,
                with_unattributed: bool = False) -> list[Action]:
        """The latest actions, newest first, filtered by account, kinds, instance, image or policy run;
        ``with_unattributed``: with the rows filed under the account's bare endpoint before accounts had keys."""
        t = schema.actions.c
        query = sa.select(schema.actions)
        bare = unattributed(account) if account is not None and with_unattributed else None
        if account is not None:
            query = query.where(t.account.in_([account, bare]) if bare is not None else t.account == account)
        if kinds is not None:
            query = query.where(t.kind.in_(list(kinds)))
        if instance_id is not None:
            query = query.where(t.instance_id == instance_id)
        if image_id is not None:
            query = query.where(t.image_id == image_id)
        if run_id is not None:
            query = query.where(t.run_id == run_id)
        query = query.order_by(t.at.desc(), t.action_id.desc()).limit(limit)
        names = [f.name for f in fields(Action)]
        return [Action(**{name: row._mapping[name] for name in names}) for row in self._read(query)]

    def history_frame(self, account: str | None = None, **filters: Any) -> pd.DataFrame:
        import pandas as pd

        names = [f.name for f in fields(Action)]
        return pd.DataFrame([[getattr(a, n) for n in names] for a in self.history(account, **filters)], columns=names)

    # ------------------------------------------------------------------------------ pruning

    def prune(self, *, now: datetime | None = None, closed_after_days: float = PRUNE_CLOSED_INTENTS_AFTER_DAYS,
              actions_after_days: float = PRUNE_ACTIONS_AFTER_DAYS) -> tuple[int, int]:
        """Delete closed intents older than ``closed_after_days`` and actions older than ``actions_after_days``
        (open intents are never pruned). Returns (intents, actions) deleted."""
        moment = now or datetime.now(timezone.utc)
        t, a = schema.intents.c, schema.actions.c
        try:
            with self._lock, self.engine.begin() as connection:
                intents = connection.execute(schema.intents.delete().where(
                    sa.not_(t.is_open), t.updated_at < now_text(moment - timedelta(days=closed_after_days)))).rowcount
                actions = connection.execute(schema.actions.delete().where(
                    a.at < now_text(moment - timedelta(days=actions_after_days)))).rowcount
        except exc.SQLAlchemyError as error:
            raise self._unusable("written", error) from None
        return intents, actions
