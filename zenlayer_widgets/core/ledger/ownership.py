"""Who works on a ledger row now: the owner token, host, pid, process identity and heartbeat that intents
(core/intents.py) and policy runs (core/policy/lease.py) both carry, and whether a recorded owner is still at work.

An owner of this process is at work while it is in :data:`live_owners`. One of another process is known to be
gone only when it ran on this host, in this boot and this PID namespace (``owner_process``) and its pid is free
or now belongs to a process started at another time (pid reuse); a host name and a pid alone prove nothing (an
apply in another PID namespace or container may share both). Otherwise its heartbeat must be younger than the
caller's window.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from .records import now_text, parse_time

#: This process, at the start of every owner token it writes.
PROCESS = uuid.uuid4().hex[:12]
#: Owners of this process at work now (a token of this process not in here is abandoned). Process-wide by nature
#: (see zenlayer_widgets._state): another run of this process must see them.
live_owners: set[str] = set()


def new_owner() -> str:
    return PROCESS + uuid.uuid4().hex[:20]


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _machine() -> tuple[str, str]:
    """(this boot, this PID namespace): a pid means the same process only where both are equal."""
    boot = _read("/proc/sys/kernel/random/boot_id") or f"boot-{psutil.boot_time():.0f}"
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:  # no PID namespaces (not Linux)
        namespace = "-"
    return boot, namespace


def _started(pid: int) -> str:
    """Process ``pid``'s start time as recorded (psutil.NoSuchProcess when there is none)."""
    return f"{psutil.Process(pid).create_time():.2f}"


def process_identity(pid: int | None = None) -> str:
    """``boot/PID namespace/start time`` of process ``pid`` (default: this one), as ``owner_process`` holds it."""
    boot, namespace = _machine()
    return f"{boot}/{namespace}/{_started(pid or os.getpid())}"


def owner_fields(owner: str, *, at: str | None = None) -> dict[str, Any]:
    """The columns that make ``owner`` (this process, now) a row's owner."""
    return {"owner": owner, "owner_host": socket.gethostname(), "owner_pid": os.getpid(),
            "owner_process": process_identity(), "heartbeat_at": at or now_text()}


def process_gone(host: str | None, pid: int | None, process: str | None) -> bool:
    """Whether the owner process is known to be gone: it ran on this host, boot and PID namespace, and ``pid`` is
    free or belongs to a process started at another time. False whenever that cannot be told (another machine or
    namespace, a row without ``process``, a process of another user whose start time is hidden)."""
    if host != socket.gethostname() or not pid or not process:
        return False
    boot, _, rest = process.partition("/")
    namespace, _, started = rest.rpartition("/")
    if (boot, namespace) != _machine():
        return False
    try:
        return _started(pid) != started
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # exists, its details hidden
        return False


def at_work(owner: str, host: str | None, pid: int | None, heartbeat_at: str, window: float, *,
            process: str | None = None, now: float | None = None) -> bool:
    """Whether the owner recorded on a row may still be working on it (its heartbeat within ``window`` seconds)."""
    if owner.startswith(PROCESS):
        return owner in live_owners
    if process_gone(host, pid, process):
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
