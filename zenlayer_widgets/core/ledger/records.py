"""What the ledger stores, as Python values: outcomes, the intent and action records, its errors."""

from __future__ import annotations

import getpass
import socket
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from ...api.errors import ZenlayerError

# Outcomes of an intent. Open ones are reconciled on the next run; final ones are history.
SUBMITTED = "submitted"  # CreateImage answered with an image id (CREATING)
ADOPTED = "adopted"  # the image was matched to this intent on evidence after an unknown outcome
TIMEOUT = "timeout"  # the wait gave up while the image was still CREATING
UNKNOWN = "unknown"  # sent, and the evidence could not tell whether (or which) image was made
AVAILABLE_OUTCOME = "available"  # final: the image is AVAILABLE
FAILED = "failed"  # final: the image became UNAVAILABLE
NOT_MADE = "not_made"  # final: refused, never sent, or the evidence proved no image was made
GONE = "gone"  # final: the image this intent made no longer exists (deleted since)
FINAL_OUTCOMES = frozenset({AVAILABLE_OUTCOME, FAILED, NOT_MADE, GONE})

#: The rotation-policy run the current task works for (core/policy sets it while it applies; tasks started
#: inside inherit it): every action recorded meanwhile carries its id, so a run is one entry in the activity.
current_run: ContextVar[str | None] = ContextVar("zenlayer_widgets_policy_run", default=None)

#: Action kinds recorded in ``zw_actions``.
ACTION_KINDS = ("create", "stop", "start", "delete", "rename")
#: Prune rule: closed intents whose last change is older than this are deleted (their actions stay).
PRUNE_CLOSED_INTENTS_AFTER_DAYS = 90
#: Prune rule: actions older than this are deleted.
PRUNE_ACTIONS_AFTER_DAYS = 400


class LedgerError(ZenlayerError):
    """The ledger cannot be opened, read or written; for a create: nothing was sent."""


class IntentConflict(LedgerError):
    """Another open intent holds this (zone, image name) or this instance: someone else's create is
    in flight or unfinished. ``existing`` is that intent."""

    def __init__(self, existing: LedgerEntry) -> None:
        self.existing = existing
        super().__init__(
            f"Another create is open in the ledger: image {existing.image_name!r} from instance {existing.instance_id} "
            f"in {existing.zone_id}, started {existing.started_at} by {existing.who} "
            f"(outcome {existing.outcome or 'none yet'}, image {existing.image_id or 'unknown'}). Nothing was sent. "
            "Wait for it to finish, or re-run that create (instance and name) to reconcile it."
        )


class NotOwner(LedgerError):
    """Another run has taken this intent over; this one must not send."""


class ForeignIntent(LedgerError):
    """The intent was begun under another account: a client records no outcome for it and never takes it over."""

    def __init__(self, intent_id: str, owner_account: str, account: str) -> None:
        self.intent_id, self.owner_account, self.account = intent_id, owner_account, account
        super().__init__(f"Intent {intent_id[:8]} belongs to account {owner_account}, not {account}: nothing was "
                         "recorded for it (each account's intents are its own).")


def now_text(moment: datetime | None = None) -> str:
    """A UTC time as the ledger stores it."""
    return (moment or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="milliseconds")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def who_am_i() -> str:
    """``user@host`` of this process (what the ledger says did an action)."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class LedgerEntry:
    """One intent as stored (``outcome`` None: nothing was recorded after the intent)."""

    intent_id: str
    account: str
    instance_id: str
    zone_id: str
    image_name: str
    description: str | None
    started_at: str
    outcome: str | None = None
    image_id: str | None = None
    request_id: str | None = None
    status: str | None = None
    adopted: bool = False
    error: dict[str, str] | None = None
    updated_at: str | None = None
    who: str = ""
    owner: str = ""
    owner_host: str | None = None
    owner_pid: int | None = None
    heartbeat_at: str = ""
    sent_at: str | None = None
    attempts: int = 0
    settle_seconds: float | None = None
    snapshot: dict[str, Any] | None = None
    evidence: dict[str, Any] | None = None
    is_open: bool = True
    owner_process: str | None = None  # the owner's boot, PID namespace and start time (ownership.py)

    @property
    def open(self) -> bool:
        """Whether the intent still needs reconciling."""
        return self.is_open


@dataclass(frozen=True)
class Action:
    """One recorded action."""

    action_id: int
    at: str
    kind: str
    account: str
    zone_id: str | None
    instance_id: str | None
    image_id: str | None
    image_name: str | None
    request_id: str | None
    outcome: str
    who: str
    intent_id: str | None
    detail: str | None
    run_id: str | None = None  # the rotation-policy run it was part of


def error_fields(error: BaseException | None) -> tuple[str | None, str | None]:
    """An error as its class name and API code only (messages are never kept: they may quote anything)."""
    if error is None:
        return None, None
    code = getattr(error, "code", None)
    return type(error).__name__, code if isinstance(code, str) else None


def entry_from_row(row: sa.Row[Any]) -> LedgerEntry:
    """The :class:`LedgerEntry` of a ``zw_intents`` row."""
    data = dict(row._mapping)
    error_type, error_code = data.pop("error_type"), data.pop("error_code")
    error = None if error_type is None else {"type": error_type, **({"code": error_code} if error_code else {})}
    data["adopted"] = bool(data["adopted"])
    data["is_open"] = bool(data["is_open"])
    return LedgerEntry(error=error, **data)
