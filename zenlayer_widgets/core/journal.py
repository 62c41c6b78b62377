"""A journal of CreateImage intents and their outcomes, so that a crash never makes a second image.

CreateImage is not idempotent. After a kernel crash, an interrupt or an answer that never came,
nobody knows whether the image was made. :func:`~zenlayer_widgets.core.create.create_image_async`
therefore writes the *intent* here before it sends anything, and each *outcome* afterwards. When
the next run meets the same intent (same endpoint, instance and image name) still *open*, it looks
the name up in the zone and adopts and follows the image it finds instead of making another.

The file is JSON lines, one event per line, appended, flushed to disk and never rewritten::

    {"v": 1, "event": "intent", "intent": "9f1c…", "at": "2025-06-01T12:00:00.123+00:00",
     "endpoint": "https://console.zenlayer.com", "instance_id": "…", "zone_id": "HKG-A",
     "image_name": "nightly-1", "description": null}
    {"v": 1, "event": "outcome", "intent": "9f1c…", "at": "…", "outcome": "submitted",
     "image_id": "img-…", "request_id": "T…", "status": "CREATING", "adopted": false, "error": null}

Where it lives: ``$ZENLAYER_JOURNAL`` (a file path; ``off`` keeps it in memory), else
``~/.zenlayer/journal.jsonl``. Sandbox clients always keep theirs in memory: the sandbox emulator
lives and dies with its kernel, and the real journal must not fill up with demo intents.

Only the fields above are written: no credentials, no headers, no error messages (an error is
kept as its class name and API code).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
import warnings
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..api.errors import ZenlayerError
from ..rules import AVAILABLE, UNAVAILABLE

if TYPE_CHECKING:
    import pandas as pd

    from ..api.client import AsyncZenlayerClient, ZenlayerClient
    from .progress import ImageProgress

try:  # an advisory lock keeps lines whole when several kernels append at once (POSIX only)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("zenlayer_widgets.core.journal")

#: Environment variable: the journal file, or ``off`` to keep the journal in memory.
ENV_JOURNAL = "ZENLAYER_JOURNAL"
OFF_VALUES = frozenset({"off", "none", "memory", "0", "false", "no"})
FORMAT_VERSION = 1

# Outcomes. Open ones are reconciled on the next run; final ones are history.
SUBMITTED = "submitted"  # CreateImage answered with an image id (CREATING)
ADOPTED = "adopted"  # the image was found by name after an unknown outcome or an unfinished run
TIMEOUT = "timeout"  # the wait gave up while the image was still CREATING
UNKNOWN = "unknown"  # CreateOutcomeUnknown: sent, and the lookup could not tell whether it was made
AVAILABLE_OUTCOME = "available"  # final: the image is AVAILABLE
FAILED = "failed"  # final: the image became UNAVAILABLE
NOT_MADE = "not_made"  # final: refused, never sent, or a lookup proved no image was made
GONE = "gone"  # final: the image this intent made no longer exists (deleted since)
FINAL_OUTCOMES = frozenset({AVAILABLE_OUTCOME, FAILED, NOT_MADE, GONE})


class JournalError(ZenlayerError):
    """The intent could not be written; nothing was sent."""


def default_journal_path() -> Path:
    """``~/.zenlayer/journal.jsonl``."""
    return Path.home() / ".zenlayer" / "journal.jsonl"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _error_fields(error: BaseException | None) -> dict[str, str] | None:
    """An error as its class name and API code only (messages are not kept)."""
    if error is None:
        return None
    fields = {"type": type(error).__name__}
    code = getattr(error, "code", None)
    if isinstance(code, str):
        fields["code"] = code
    return fields


@dataclass(frozen=True)
class JournalEntry:
    """One intent and its latest outcome (``outcome`` None: nothing was recorded after the intent)."""

    intent_id: str
    endpoint: str
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

    @property
    def open(self) -> bool:
        """Whether the intent still needs reconciling (no outcome, or one that is not final)."""
        return self.outcome not in FINAL_OUTCOMES


class Journal:
    """Intents and outcomes of CreateImage calls in a JSON-lines file (``path`` None: in memory only)."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path).expanduser() if path is not None else None
        self._memory: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Journal({str(self.path) if self.path else 'in memory'})"

    # ------------------------------------------------------------------------- writing

    def begin(self, endpoint: str, instance_id: str, zone_id: str, image_name: str, description: str | None) -> JournalEntry:
        """Record an intent before CreateImage is sent; :class:`JournalError` (nothing sent) when it cannot be written."""
        event = {
            "v": FORMAT_VERSION, "event": "intent", "intent": uuid.uuid4().hex, "at": _now(), "endpoint": endpoint,
            "instance_id": instance_id, "zone_id": zone_id, "image_name": image_name, "description": description,
        }
        try:
            self._append(event)
        except OSError as error:
            raise self._unusable("written", error) from None
        return _fold([event])[0]

    def _unusable(self, how: str, error: OSError) -> JournalError:
        return JournalError(
            f"The CreateImage journal {self} cannot be {how} ({type(error).__name__}); nothing was sent. "
            f"Point {ENV_JOURNAL} at a writable file, or set {ENV_JOURNAL}=off to keep it in memory."
        )

    def record(
        self,
        intent_id: str,
        outcome: str,
        *,
        image_id: str | None = None,
        request_id: str | None = None,
        status: str | None = None,
        adopted: bool = False,
        error: BaseException | None = None,
    ) -> None:
        """Record an outcome of an intent. A failure to write only warns: the create itself went through."""
        event = {
            "v": FORMAT_VERSION, "event": "outcome", "intent": intent_id, "at": _now(), "outcome": outcome,
            "image_id": image_id, "request_id": request_id, "status": status, "adopted": adopted,
            "error": _error_fields(error),
        }
        try:
            self._append(event)
        except OSError as problem:
            message = f"The CreateImage journal {self} could not record outcome {outcome!r} ({type(problem).__name__})."
            log.warning(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)

    def record_progress(self, intent_id: str, progress: ImageProgress) -> None:
        """Record where a create stands: AVAILABLE and UNAVAILABLE are final, anything else stays open."""
        if progress.status == AVAILABLE:
            outcome = AVAILABLE_OUTCOME
        elif progress.status == UNAVAILABLE:
            outcome = FAILED
        elif progress.phase == "timeout":
            outcome = TIMEOUT
        else:
            outcome = ADOPTED if progress.adopted else SUBMITTED
        self.record(intent_id, outcome, image_id=progress.image_id, request_id=progress.request_id,
                    status=progress.status, adopted=progress.adopted)

    def _append(self, event: dict[str, Any]) -> None:
        if self.path is None:
            with self._lock:
                self._memory.append(event)
            return
        line = json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = "\n" + line  # a crash cut the last line short: start on a fresh one
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)  # closing releases the lock

    # ------------------------------------------------------------------------- reading

    def _events(self) -> list[dict[str, Any]]:
        if self.path is None:
            with self._lock:
                return list(self._memory)
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as error:  # an open intent may be in there: do not guess
            raise self._unusable("read", error) from None
        events = []
        for line in text.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if isinstance(event, dict) and isinstance(event.get("intent"), str):
                events.append(event)
        return events

    def entries(self, endpoint: str | None = None) -> list[JournalEntry]:
        """Every intent with its latest outcome, oldest first (only ``endpoint``'s when given).

        :class:`JournalError` when the file exists but cannot be read."""
        found = _fold(self._events())
        return [entry for entry in found if endpoint is None or entry.endpoint == endpoint]

    def open_intent(self, endpoint: str, instance_id: str, image_name: str) -> JournalEntry | None:
        """The latest intent for this instance and name at ``endpoint``, if it is still open."""
        latest = None
        for entry in self.entries(endpoint):
            if entry.instance_id == instance_id and entry.image_name == image_name:
                latest = entry
        return latest if latest is not None and latest.open else None

    def to_frame(self, endpoint: str | None = None) -> pd.DataFrame:
        """The entries as a table, newest first (for a runbook's output)."""
        import pandas as pd

        rows = [
            {"started": e.started_at, "instance_id": e.instance_id, "zone": e.zone_id, "image_name": e.image_name,
             "outcome": e.outcome or "(none)", "image_id": e.image_id, "status": e.status, "adopted": e.adopted,
             "request_id": e.request_id, "error": (e.error or {}).get("code") or (e.error or {}).get("type"),
             "updated": e.updated_at, "endpoint": e.endpoint}
            for e in reversed(self.entries(endpoint))
        ]
        return pd.DataFrame(rows, columns=["started", "instance_id", "zone", "image_name", "outcome", "image_id", "status",
                                           "adopted", "request_id", "error", "updated", "endpoint"])


def _fold(events: list[dict[str, Any]]) -> list[JournalEntry]:
    """Intent events, each updated by its outcome events in file order."""
    entries: dict[str, JournalEntry] = {}
    for event in events:
        intent = event["intent"]
        if event.get("event") == "intent":
            try:
                entries[intent] = JournalEntry(
                    intent_id=intent, endpoint=str(event["endpoint"]), instance_id=str(event["instance_id"]),
                    zone_id=str(event["zone_id"]), image_name=str(event["image_name"]),
                    description=event.get("description"), started_at=str(event.get("at", "")),
                )
            except KeyError:
                continue
        elif event.get("event") == "outcome" and intent in entries:
            previous = entries[intent]
            entries[intent] = replace(
                previous, outcome=event.get("outcome"), status=event.get("status"),
                image_id=event.get("image_id") or previous.image_id, request_id=event.get("request_id") or previous.request_id,
                adopted=bool(event.get("adopted")), error=event.get("error"), updated_at=event.get("at"),
            )
    return list(entries.values())


_memory_journal = Journal(None)


def journal_for(client: ZenlayerClient | AsyncZenlayerClient) -> Journal:
    """The journal a client's creates use: in memory for the sandbox or with ``ZENLAYER_JOURNAL=off``,
    else the file ``$ZENLAYER_JOURNAL`` or ``~/.zenlayer/journal.jsonl``."""
    setting = os.environ.get(ENV_JOURNAL, "").strip()
    if getattr(client, "sandbox", False) or setting.lower() in OFF_VALUES:
        return _memory_journal
    return Journal(setting or default_journal_path())
