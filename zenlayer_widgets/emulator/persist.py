"""The backend's state as JSON: what the shared sandbox saves after every change and reloads at start.

A snapshot holds the zones, instances (in order), images, the pending lifecycle transitions as
seconds left (the monotonic clock does not survive a restart), and every id handed out (new ids
never repeat an old one). Writes are atomic (temporary file, then rename), mode 0600.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .records import ImageRecord, InstanceRecord, ZoneRecord

FORMAT = 1
_INSTANCE_SKIP = {"generation", "cached_json"}


@dataclass
class BackendState:
    """What a snapshot holds, as records: the backend builds one to save and applies one it loaded."""

    seed: str
    zones: list[ZoneRecord]
    #: In the backend's order.
    instances: list[InstanceRecord]
    public_images: list[ImageRecord]
    custom_images: list[ImageRecord]
    #: ``(seconds left, kind, target)`` of each transition still due.
    pending: list[tuple[float, str, str]]
    #: Every id handed out.
    ids: set[str]


def _instance_data(record: InstanceRecord) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.name not in _INSTANCE_SKIP}


def _instance(data: dict[str, Any]) -> InstanceRecord:
    record = InstanceRecord(**data)
    record.tags = [tuple(tag) for tag in record.tags]  # type: ignore[misc]
    record.data_disks = [tuple(disk) for disk in record.data_disks]  # type: ignore[misc]
    return record


def to_json(state: BackendState) -> dict[str, Any]:
    """``state`` as JSON-able data."""
    return {
        "format": FORMAT,
        "seed": state.seed,
        "zones": [dataclasses.asdict(z) for z in state.zones],
        "instances": [_instance_data(i) for i in state.instances],
        "public_images": [dataclasses.asdict(i) for i in state.public_images],
        "custom_images": [dataclasses.asdict(i) for i in state.custom_images],
        "pending": [{"left": left, "kind": kind, "target": target} for left, kind, target in state.pending],
        "ids": sorted(state.ids),
    }


def from_json(data: Any) -> BackendState:
    """The state :func:`to_json` gave; ValueError when ``data`` is not a snapshot."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("not a sandbox snapshot of a known format")
    try:
        return BackendState(
            seed=str(data.get("seed", "demo")),
            zones=[ZoneRecord(**z) for z in data["zones"]],
            instances=[_instance(i) for i in data["instances"]],
            public_images=[ImageRecord(**i) for i in data["public_images"]],
            custom_images=[ImageRecord(**i) for i in data["custom_images"]],
            pending=[(float(item["left"]), item["kind"], item["target"]) for item in data["pending"]],
            ids=set(data["ids"]),
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"a malformed sandbox snapshot ({type(error).__name__}: {error})") from None


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
