"""The held-out upgrade check: ledgers WRITTEN BY the release at 6a23087 (schema 3: intents open and closed,
actions, finished and unfinished policy runs with steps; an account's ledger, the shared sandbox's, and one on
PostgreSQL) open in this code with every row kept and exactly the schema a new ledger gets.

The fixture folder was made by that release's own code: ``release_6a23087/make_fixture.py`` says how to re-make it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from zenlayer_widgets.core import ledger as ledger_module
from zenlayer_widgets.core.ledger import Ledger, ledger_for, migrations, schema
from zenlayer_widgets.core.ledger.engine import sqlite_file_url
from zenlayer_widgets.core.owed_start import owed_instances

from .helpers import schema_shape

FIXTURE = Path(__file__).parent / "release_6a23087"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text())
NEW_COLUMNS = {"owner_process"}  # version 5's, empty on every row the release wrote


def contents(ledger: Ledger) -> dict[str, list[dict[str, Any]]]:
    """Every row the release could have written, as the fixture's generator lists them."""
    out = {}
    for table in (schema.intents, schema.actions, schema.policy_runs, schema.policy_steps):
        rows = [{k: v for k, v in r._mapping.items() if k not in NEW_COLUMNS} for r in ledger._read(sa.select(table))]
        assert all(r._mapping.get(c) is None for r in ledger._read(sa.select(table)) for c in NEW_COLUMNS)
        out[table.name] = json.loads(json.dumps(sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str)),
                                                default=str))
    return out


def load_dump(url: str) -> None:
    engine = sa.create_engine(url)
    connection = engine.raw_connection()
    try:
        connection.cursor().execute((FIXTURE / "ledger.postgresql.sql").read_text())
        connection.commit()
    finally:
        connection.close()
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "sandbox", "postgresql"])
def test_a_ledger_written_by_release_6a23087_opens_with_nothing_lost_and_the_new_schema(kind, tmp_path, request,
                                                                                      mock_emulator):
    if kind == "postgresql":
        import pg_cluster

        base = request.getfixturevalue("postgres_base_url")
        url, new_url = pg_cluster.fresh_schema_url(base), pg_cluster.fresh_schema_url(base)
        load_dump(url)
        ledger = Ledger(url)
    elif kind == "sandbox":  # the shared sandbox's own ledger file, found as a sandbox client finds it
        target = ledger_module.sandbox_ledger_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURE / "sandbox" / "ledger.sqlite3", target)
        ledger = ledger_for(mock_emulator.client(sandbox=True))
        assert ledger.path == str(target)
        url, new_url = sqlite_file_url(target), sqlite_file_url(tmp_path / "new.sqlite3")
    else:
        shutil.copy(FIXTURE / "ledger.sqlite3", tmp_path / "old.sqlite3")
        url, new_url = sqlite_file_url(tmp_path / "old.sqlite3"), sqlite_file_url(tmp_path / "new.sqlite3")
        ledger = Ledger(url)
    assert ledger.version == migrations.LATEST
    assert contents(ledger) == EXPECTED[kind]
    assert [e.image_name for e in ledger.entries(open_only=True)] == ["release-open"]  # still open: never lost
    owed = [(a["account"], a["instance_id"]) for a in EXPECTED[kind]["zw_actions"] if a["outcome"] == "planned"]
    assert [owed_instances(ledger, account) for account, _ in owed] == [[instance] for _, instance in owed]  # version 8
    Ledger(new_url).close()
    assert schema_shape(url) == schema_shape(new_url)
    ledger.close()
