"""The backend's state as JSON: what the shared sandbox saves after every change and reloads at start.

A snapshot holds the zones, instances (in order), images, the pending lifecycle transitions as
seconds left (the monotonic clock does not survive a restart), and every id handed out (new ids
never repeat an old one). Writes are atomic (temporary file, then rename), mode 0600.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .records import ImageRecord, InstanceRecord, ZoneRecord
from .seed import IdFactory

if TYPE_CHECKING:
    from .backend import EmulatorBackend

FORMAT = 1
_INSTANCE_SKIP = {"generation", "cached_json"}


def _instance_data(record: InstanceRecord) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.name not in _INSTANCE_SKIP}


def _instance(data: dict[str, Any]) -> InstanceRecord:
    record = InstanceRecord(**data)
    record.tags = [tuple(tag) for tag in record.tags]  # type: ignore[misc]
    record.data_disks = [tuple(disk) for disk in record.data_disks]  # type: ignore[misc]
    return record


def export_state(backend: EmulatorBackend, now: float) -> dict[str, Any]:
    """The backend's state (called under its lock)."""
    return {
        "format": FORMAT,
        "seed": backend._seed,
        "zones": [dataclasses.asdict(z) for z in backend._zones.values()],
        "instances": [_instance_data(backend._instances[i]) for i in backend._instance_order],
        "public_images": [dataclasses.asdict(i) for i in backend._public.values()],
        "custom_images": [dataclasses.asdict(i) for i in backend._custom.values()],
        "pending": [
            {"left": max(deadline - now, 0.0), "kind": kind, "target": target}
            for deadline, _, kind, target, generation in sorted(backend._pending)
            if kind == "image" or (target in backend._instances and backend._instances[target].generation == generation)
        ],
        "ids": sorted(backend._ids._seen),
    }


def import_state(backend: EmulatorBackend, state: dict[str, Any], now: float) -> None:
    """Replace the backend's state (called under its lock); ValueError when ``state`` is not a snapshot."""
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError("not a sandbox snapshot of a known format")
    try:
        zones = [ZoneRecord(**z) for z in state["zones"]]
        instances = [_instance(i) for i in state["instances"]]
        public = [ImageRecord(**i) for i in state["public_images"]]
        custom = [ImageRecord(**i) for i in state["custom_images"]]
        pending = list(state["pending"])
        seen = set(state["ids"])
    except (KeyError, TypeError) as error:
        raise ValueError(f"a malformed sandbox snapshot ({type(error).__name__}: {error})") from None
    ids = IdFactory(f"{state.get('seed', 'demo')}:{len(seen)}")
    ids._seen = seen
    backend._ids = ids
    backend._zones = {z.zone_id: z for z in zones}
    backend._instances = {i.instance_id: i for i in instances}
    backend._instance_order = [i.instance_id for i in instances]
    backend._by_zone = {zone_id: [] for zone_id in backend._zones}
    for record in instances:
        backend._by_zone.setdefault(record.zone_id, []).append(record.instance_id)
    backend._public = {i.image_id: i for i in public}
    backend._custom = {i.image_id: i for i in custom}
    backend._pending = []
    backend._sequence = itertools.count()
    for item in pending:
        generation = backend._instances[item["target"]].generation if item["kind"] != "image" else 0
        heapq.heappush(backend._pending, (now + float(item["left"]), next(backend._sequence), item["kind"], item["target"], generation))


def save(state: dict[str, Any], path: Path) -> None:
    """Write a snapshot atomically with mode 0600."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle, separators=(",", ":"))
    os.replace(temporary, path)


def load(path: Path) -> dict[str, Any] | None:
    """The snapshot at ``path``; None when there is none (or it cannot be read: the sandbox starts afresh)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
