"""Who works on a ledger row now: the owner token, host, pid and heartbeat that intents (core/intents.py) and
policy runs (core/policy/lease.py) both carry, and whether a recorded owner is still at work.

An owner of this process is at work while it is in :data:`live_owners`; one of another process on this host
is not once that process is gone; otherwise its heartbeat must be younger than the caller's window.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .records import now_text, parse_time, process_gone

#: This process, at the start of every owner token it writes.
PROCESS = uuid.uuid4().hex[:12]
#: Owners of this process at work now (a token of this process not in here is abandoned).
live_owners: set[str] = set()


def new_owner() -> str:
    return PROCESS + uuid.uuid4().hex[:20]


def owner_fields(owner: str, *, at: str | None = None) -> dict[str, Any]:
    """The columns that make ``owner`` (this process, now) a row's owner."""
    return {"owner": owner, "owner_host": socket.gethostname(), "owner_pid": os.getpid(), "heartbeat_at": at or now_text()}


def at_work(owner: str, host: str | None, pid: int | None, heartbeat_at: str, window: float, *,
            now: float | None = None) -> bool:
    """Whether the owner recorded on a row may still be working on it (its heartbeat within ``window`` seconds)."""
    if owner.startswith(PROCESS):
        return owner in live_owners
    if process_gone(host, pid):
        return False
    return (time.time() if now is None else now) - parse_time(heartbeat_at).timestamp() <= window


@contextmanager
def working(owner: str) -> Iterator[str]:
    """``owner`` is at work in this process while the block runs."""
    live_owners.add(owner)
    try:
        yield owner
    finally:
        live_owners.discard(owner)
