"""Import a JSON-lines journal of version 0.1 (``~/.zenlayer/journal.jsonl``) into a ledger, once.

Each intent becomes a row with its latest outcome. An intent that was still open stays open, with
``sent_at`` = its start (it may have been sent) and no snapshot. It is filed under the journal's bare endpoint:
the journal never said which key wrote it, so, like every row from before accounts carried the key (accounts.py),
it is history that no client resumes or closes automatically; ``zw.settle_intent`` cannot reach it either.
The reader splits lines on ``\\n`` only (``str.splitlines`` also splits on U+2028/U+2029, which a
description may hold: that lost intents in 0.1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc

from . import schema
from .records import FINAL_OUTCOMES, now_text
from .store import Ledger


def read_events(text: str) -> list[dict[str, Any]]:
    """The events of a journal file, skipping lines cut short by a crash."""
    events = []
    for line in text.split("\n"):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("intent"), str):
            events.append(event)
    return events


def fold(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Intent rows, each updated by its outcome events in file order."""
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        intent = event["intent"]
        if event.get("event") == "intent":
            try:
                at = str(event.get("at") or now_text())
                rows[intent] = {
                    "intent_id": intent[:32], "account": str(event["endpoint"]), "instance_id": str(event["instance_id"]),
                    "zone_id": str(event["zone_id"]), "image_name": str(event["image_name"]),
                    "description": event.get("description"), "started_at": at, "updated_at": at, "heartbeat_at": at,
                    "sent_at": at, "attempts": 1, "is_open": True, "adopted": False, "who": "imported",
                    "owner": "imported", "outcome": None,
                }
            except KeyError:
                continue
        elif event.get("event") == "outcome" and intent in rows:
            row = rows[intent]
            error = event.get("error") or {}
            row.update(
                outcome=event.get("outcome"), status=event.get("status"), adopted=bool(event.get("adopted")),
                image_id=event.get("image_id") or row.get("image_id"), request_id=event.get("request_id") or row.get("request_id"),
                error_type=error.get("type"), error_code=error.get("code"), updated_at=str(event.get("at") or row["updated_at"]),
                is_open=event.get("outcome") not in FINAL_OUTCOMES,
            )
    return list(rows.values())


def import_journal(ledger: Ledger, path: Path) -> int | None:
    """Import ``path`` into ``ledger`` unless it was imported before; the number of intents, or None.

    Of two open intents for the same name or instance only the newest stays open (the others were
    superseded in 0.1 too: only the latest intent per instance and name was ever reconciled)."""
    key = str(path.expanduser().resolve())
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    rows = fold(read_events(text))
    with ledger._lock, ledger.engine.begin() as connection:
        done = connection.execute(sa.select(schema.legacy_imports).where(schema.legacy_imports.c.path == key)).first()
        if done is not None:
            return None
        held: set[tuple[str, ...]] = set()
        for row in sorted(rows, key=lambda r: r["started_at"], reverse=True):
            keys = {("name", row["account"], row["zone_id"], row["image_name"]), ("instance", row["account"], row["instance_id"])}
            if row["is_open"] and keys & held:
                row["is_open"] = False
            if row["is_open"]:
                held |= keys
        t = schema.intents.c
        known = {r.intent_id for r in connection.execute(sa.select(t.intent_id).where(t.intent_id.in_([r["intent_id"] for r in rows])))} if rows else set()
        for row in rows:
            if row["intent_id"] in known:
                continue
            try:
                with connection.begin_nested():
                    connection.execute(schema.intents.insert().values(**row))
            except exc.IntegrityError:  # an open intent of the ledger holds it already: keep that one
                row["is_open"] = False
                connection.execute(schema.intents.insert().values(**row))
        connection.execute(schema.legacy_imports.insert().values(path=key, imported_at=now_text(), intents=len(rows)))
    return len(rows)
