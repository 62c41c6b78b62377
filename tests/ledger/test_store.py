"""The ledger on SQLite and on a real PostgreSQL server (the same tests, ``ledger_url`` parametrized)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from zenlayer_widgets.core.ledger import (
    AVAILABLE_OUTCOME,
    GONE,
    NOT_MADE,
    UNKNOWN,
    IntentConflict,
    Ledger,
    LedgerError,
    NotOwner,
    migrations,
    schema,
    schema_version_of,
)
from zenlayer_widgets.core.ledger.records import now_text

ACCOUNT = "https://console.zenlayer.com"
#: Every line and paragraph separator Python or a JSON-lines reader might split on, and other oddities.
SEPARATORS = "a\u2028b\u2029c\u0085d\r\ne\nf\x1cg\x1dh\x1ei\x0bj\x0ck\tl"
ODD_TEXT = "镜像-\u202e右到左\u200d👩‍💻 e\u0301 " + SEPARATORS


@pytest.fixture
def ledger(ledger_url):
    opened = Ledger(ledger_url)
    yield opened
    opened.close()


def test_migrations_bring_an_empty_database_to_the_latest_version_once(ledger_url):
    first = Ledger(ledger_url)
    again = Ledger(ledger_url)  # a second process opening it: nothing applied twice
    assert first.version == again.version == migrations.LATEST
    with first.engine.connect() as connection:
        rows = connection.execute(sa.select(schema.schema_version.c.version)).scalars().all()
        assert rows == [number for number, _, _ in migrations.MIGRATIONS]
        assert {"zw_intents", "zw_actions", "zw_legacy_imports"} <= set(sa.inspect(connection).get_table_names())
    assert schema_version_of(first) == migrations.LATEST
    with first.engine.begin() as connection:  # a newer package wrote this database: refuse, do not guess
        connection.execute(schema.schema_version.insert().values(version=migrations.LATEST + 1, name="future",
                                                                 applied_at=now_text()))
    with pytest.raises(LedgerError, match="cannot be opened"):
        Ledger(ledger_url)
    first.close()
    again.close()


def test_one_open_intent_per_name_in_a_zone_and_per_instance(ledger):
    first = ledger.begin(ACCOUNT, "i-1", "HKG-A", "nightly", None)
    with pytest.raises(IntentConflict, match=r"image 'nightly' from instance i-1 in HKG-A.*Nothing was sent") as same_name:
        ledger.begin(ACCOUNT, "i-2", "HKG-A", "nightly", None)  # a colleague, another instance, the same name
    assert same_name.value.existing.intent_id == first.intent_id and "@" in same_name.value.existing.who
    with pytest.raises(IntentConflict):
        ledger.begin(ACCOUNT, "i-1", "HKG-A", "another-name", None)  # the same instance: it images one disk at a time
    elsewhere = ledger.begin(ACCOUNT, "i-3", "TYO-A", "nightly", None)  # another zone: fine
    ledger.begin("https://other.example", "i-1", "HKG-A", "nightly", None)  # another account: fine
    ledger.record(first.intent_id, UNKNOWN, account=ACCOUNT)  # still open
    with pytest.raises(IntentConflict):
        ledger.begin(ACCOUNT, "i-2", "HKG-A", "nightly", None)
    ledger.record(first.intent_id, AVAILABLE_OUTCOME, account=ACCOUNT, image_id="img-1", status="AVAILABLE")  # closed
    second = ledger.begin(ACCOUNT, "i-2", "HKG-A", "nightly", None)
    assert second.open and not ledger.get(first.intent_id).open
    assert [e.intent_id for e in ledger.entries(ACCOUNT, open_only=True)] == [elsewhere.intent_id, second.intent_id]


def test_only_the_owner_may_mark_an_intent_sent_and_a_take_over_is_compare_and_set(ledger):
    entry = ledger.begin(ACCOUNT, "i-1", "HKG-A", "owned", None, owner="a" * 32, settle_seconds=3.0)
    with pytest.raises(NotOwner):
        ledger.mark_sent(entry.intent_id, "b" * 32)
    ledger.mark_sent(entry.intent_id, "a" * 32)
    sent = ledger.get(entry.intent_id)
    assert sent.sent_at is not None and sent.attempts == 1 and sent.settle_seconds == 3.0
    assert ledger.take_over(sent, "b" * 32, account=ACCOUNT)
    assert not ledger.take_over(sent, "c" * 32, account=ACCOUNT)  # read before b's take-over: refused
    with pytest.raises(NotOwner):
        ledger.mark_sent(entry.intent_id, "a" * 32)  # the old owner can no longer send
    ledger.mark_sent(entry.intent_id, "b" * 32)
    assert ledger.get(entry.intent_id).attempts == 2


def test_separators_and_odd_text_round_trip_exactly(ledger):
    snapshot = {"image_ids": ["img-1"], "note": ODD_TEXT}
    entry = ledger.begin(ACCOUNT, "i-1", "HKG-A", "镜像_\u2028名", ODD_TEXT, snapshot=snapshot)
    ledger.note_evidence(entry.intent_id, {"seen": ODD_TEXT})
    ledger.record(entry.intent_id, AVAILABLE_OUTCOME, account=ACCOUNT, image_id="img-2", status="AVAILABLE")
    ledger.record_action("rename", account=ACCOUNT, image_id="img-2", image_name=ODD_TEXT, outcome="done", detail=ODD_TEXT)
    reopened = Ledger(ledger.url if "postgresql" not in ledger.url else ledger.engine.url)
    [back] = reopened.entries(ACCOUNT)
    assert (back.image_name, back.description, back.snapshot, back.evidence["seen"]) == (
        "镜像_\u2028名", ODD_TEXT, snapshot, ODD_TEXT)
    rename = reopened.history(ACCOUNT, kinds=["rename"])[0]
    assert (rename.image_name, rename.detail) == (ODD_TEXT, ODD_TEXT)
    assert reopened.to_frame(ACCOUNT).loc[0, "image_name"] == "镜像_\u2028名"
    reopened.close()


def test_every_action_is_recorded_with_who_and_when_and_read_back_newest_first(ledger):
    ledger.record_action("stop", account=ACCOUNT, zone_id="HKG-A", instance_id="i-1", request_id="T1", outcome="done")
    ledger.record_action("start", account=ACCOUNT, zone_id="HKG-A", instance_id="i-1", request_id="T2", outcome="refused",
                         detail="OPERATION_DENIED_INSTANCE_NOT_STOPPED")
    ledger.record_action("delete", account=ACCOUNT, zone_id="HKG-A", image_id="img-1", image_name="old", outcome="unknown")
    ledger.record_action("delete", account="https://other.example", image_id="img-9", outcome="done")
    entry = ledger.begin(ACCOUNT, "i-1", "HKG-A", "new", None)
    ledger.record(entry.intent_id, NOT_MADE, account=ACCOUNT, error=ValueError("a message that is never kept"))
    history = ledger.history(ACCOUNT)
    assert [a.kind for a in history] == ["create", "delete", "start", "stop"]
    assert history[0].outcome == NOT_MADE and history[0].detail == "ValueError" and history[0].intent_id == entry.intent_id
    assert all("@" in a.who and a.at.endswith("+00:00") for a in history)
    assert [a.kind for a in ledger.history(ACCOUNT, kinds=["stop", "start"])] == ["start", "stop"]
    assert [a.image_id for a in ledger.history(kinds=["delete"])] == ["img-9", "img-1"]
    assert len(ledger.history(ACCOUNT, limit=2)) == 2 and ledger.history(ACCOUNT, instance_id="i-1")[-1].request_id == "T1"
    assert "never kept" not in str(ledger.history_frame(ACCOUNT).to_dict())
    with pytest.raises(ValueError, match="kind must be one of"):
        ledger.record_action("reboot", account=ACCOUNT, outcome="done")


def test_the_prune_rule_drops_old_closed_intents_and_old_actions_never_open_ones(ledger):
    old, recent, still_open = (ledger.begin(ACCOUNT, f"i-{n}", "HKG-A", f"n-{n}", None) for n in range(3))
    for entry in (old, recent):
        ledger.record(entry.intent_id, GONE, account=ACCOUNT)
    ledger.record_action("stop", account=ACCOUNT, instance_id="i-9", outcome="done")
    later = datetime.now(timezone.utc) + timedelta(days=91)
    with ledger.engine.begin() as connection:  # `recent` changed a day before the prune
        connection.execute(schema.intents.update().where(schema.intents.c.intent_id == recent.intent_id)
                           .values(updated_at=now_text(later - timedelta(days=1))))
    assert ledger.prune(now=later) == (1, 0)
    assert {e.intent_id for e in ledger.entries()} == {recent.intent_id, still_open.intent_id}
    assert ledger.prune(now=datetime.now(timezone.utc) + timedelta(days=1000)) == (1, 3)  # open intents stay; 2 outcomes + 1 stop
    assert [e.intent_id for e in ledger.entries()] == [still_open.intent_id]


RACE = """
import sys
from zenlayer_widgets.core.ledger import IntentConflict, Ledger
ledger = Ledger(sys.argv[1])
won = []
for n in range(int(sys.argv[3])):
    try:
        ledger.begin("acct", f"i-{sys.argv[2]}-{n}", "HKG-A", f"race-{n}", None)
        won.append(n)
    except IntentConflict:
        pass
print(",".join(map(str, won)))
"""


def test_processes_racing_for_the_same_names_open_exactly_one_intent_each(ledger_url, ledger):
    rounds, workers = 25, 4
    processes = [subprocess.Popen([sys.executable, "-c", RACE, ledger_url, str(w), str(rounds)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for w in range(workers)]
    results = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err[-2000:] for _, err in results]
    wins = [int(n) for out, _ in results for n in out.strip().split(",") if n]
    assert sorted(wins) == list(range(rounds))  # every name won exactly once, whoever won it
    assert len(ledger.entries("acct", open_only=True)) == rounds


def test_two_hundred_thousand_intents_do_not_slow_a_create(ledger, capsys):
    """The ledger calls one create makes, timed on an empty ledger and with 200,000 old intents."""
    def one_create(n: int) -> float:
        started = time.perf_counter()
        assert ledger.open_intent(ACCOUNT, f"i-new-{n}", "timed") is None
        entry = ledger.begin(ACCOUNT, f"i-new-{n}", "HKG-A", f"timed-{n}", None, owner="o" * 32)
        ledger.mark_sent(entry.intent_id, "o" * 32)
        ledger.claimed_image_ids(ACCOUNT, "HKG-A", ["img-3", "img-new"])  # what each reconcile look asks
        ledger.record(entry.intent_id, AVAILABLE_OUTCOME, account=ACCOUNT, image_id=f"img-new-{n}", status="AVAILABLE")
        return time.perf_counter() - started

    empty = min(one_create(n) for n in range(5))
    stamp = now_text()
    rows = [{"intent_id": uuid.uuid4().hex, "account": ACCOUNT, "zone_id": ("HKG-A", "TYO-A", "NYC-A")[n % 3], "instance_id": f"i-{n % 5000}",
             "image_name": f"old-{n}", "is_open": False, "adopted": False, "who": "bulk", "owner": "bulk",
             "started_at": stamp, "updated_at": stamp, "heartbeat_at": stamp, "attempts": 1, "outcome": AVAILABLE_OUTCOME,
             "image_id": f"img-{n}"} for n in range(200_000)]
    with ledger.engine.begin() as connection:
        for start in range(0, len(rows), 20_000):
            connection.execute(schema.intents.insert(), rows[start:start + 20_000])
    full = min(one_create(n) for n in range(5, 15))
    assert ledger.claimed_image_ids(ACCOUNT, "HKG-A", ["img-3", "img-4", "img-new-0"]) == {"img-3", "img-new-0"}
    with capsys.disabled():
        print(f"\n[{ledger.engine.dialect.name}] ledger calls of one create: {empty * 1000:.1f} ms empty, "
              f"{full * 1000:.1f} ms with 200,000 intents")
    assert full < max(5 * empty, 0.05), (empty, full)


def test_a_new_sqlite_ledger_opens_while_another_connection_is_writing_to_it(tmp_path):
    """Two kernels opening a new ledger file at once: while one migrates (a write transaction), the other's switch
    of the file to WAL needs a lock SQLite's busy timeout does not wait for ("database is locked" at once: a
    LedgerError, and the create refused). The switch is tried again until the writer is done."""
    import sqlite3
    import threading

    from zenlayer_widgets.core.ledger.engine import sqlite_file_url

    path = tmp_path / "ledger.sqlite3"
    sqlite_file_url(path)  # the new, empty file
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # the other kernel, mid-migration
    done = threading.Timer(0.3, other.execute, ("COMMIT",))
    done.start()
    try:
        opened = Ledger(path)
    finally:
        done.join()
        other.close()
    assert opened.version == migrations.LATEST
    opened.close()
