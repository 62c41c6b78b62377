"""The held-out upgrade check: ledgers WRITTEN BY the release at 6a23087 (schema 3: intents open and closed,
actions, finished and unfinished policy runs with steps; an account's ledger, the shared sandbox's, and one on
PostgreSQL) open in this code with every row kept and exactly the schema a new ledger gets; their policy runs and
steps are carried into durable operations (version 9) with their history, ownership and unfinished run.

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
from zenlayer_widgets.core.ledger.ownership import live_owners
from zenlayer_widgets.core.owed_start import owed_instances
from zenlayer_widgets.core.policy import lease
from zenlayer_widgets.core.policy.records import owned_images, runs, steps_of, unfinished_run

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


def assert_runs_carried(ledger: Ledger, expected: dict[str, list[dict[str, Any]]]) -> None:
    """Version 9 carried every policy run and step into operations: the same runs (ids, stamps, outcomes; the unfinished
    one still unfinished, for the next apply to resume), and the policies own exactly the images their steps made."""
    old_runs, old_steps = expected["zw_policy_runs"], expected["zw_policy_steps"]
    for old in old_runs:
        [run] = [r for r in runs(ledger, old["account"], old["policy"]) if r.run_id == old["run_id"]]
        assert (run.stamp, run.outcome, run.finished_at, run.who) == (old["stamp"], old["outcome"], old["finished_at"],
                                                                     old["who"])
        open_run = unfinished_run(ledger, old["account"], old["policy"])
        assert (open_run is not None and open_run.run_id == old["run_id"]) == (old["finished_at"] is None)
    for account, policy in {(s["account"], s["policy"]) for s in old_steps}:
        made = {s["image_id"] for s in old_steps if (s["account"], s["policy"]) == (account, policy) and s["image_id"]}
        assert set(owned_images(ledger, account, policy)) == made
        for old in old_runs:
            if (old["account"], old["policy"]) == (account, policy):
                steps = steps_of(ledger, old["run_id"])
                assert {(s.instance_id, s.image_id, s.image_name) for s in steps.values()} == {
                    (s["instance_id"], s["image_id"], s["image_name"]) for s in old_steps if s["run_id"] == old["run_id"]}


def load_dump(url: str, dump: Path = FIXTURE / "ledger.postgresql.sql") -> None:
    engine = sa.create_engine(url)
    connection = engine.raw_connection()
    try:
        connection.cursor().execute(dump.read_text())
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
    assert_runs_carried(ledger, EXPECTED[kind])
    owed = [(a["account"], a["instance_id"]) for a in EXPECTED[kind]["zw_actions"] if a["outcome"] == "planned"]
    assert [owed_instances(ledger, account) for account, _ in owed] == [[instance] for _, instance in owed]  # version 8
    Ledger(new_url).close()
    assert schema_shape(url) == schema_shape(new_url)
    ledger.close()


RELEASE_7 = Path(__file__).parent / "release_77e7cba"
EXPECTED_7 = json.loads((RELEASE_7 / "expected.json").read_text())


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_version_7_ledger_written_by_release_77e7cba_keeps_its_runs_owned_images_and_unfinished_run(kind, tmp_path,
                                                                                                   request):
    """The release before rotation ran on the engine (77e7cba, schema 7) wrote two finished runs, a verification
    (operations) and a run killed while its image was CREATING: every row stays, the policy owns exactly the images
    it owned, the history lists the three runs, and the killed run is the one the next apply resumes."""
    written = EXPECTED_7[kind]
    if kind == "postgresql":
        import pg_cluster

        base = request.getfixturevalue("postgres_base_url")
        url, new_url = pg_cluster.fresh_schema_url(base), pg_cluster.fresh_schema_url(base)
        load_dump(url, RELEASE_7 / "ledger.postgresql.sql")
    else:
        shutil.copy(RELEASE_7 / "ledger.sqlite3", tmp_path / "old.sqlite3")
        url, new_url = sqlite_file_url(tmp_path / "old.sqlite3"), sqlite_file_url(tmp_path / "new.sqlite3")
    ledger = Ledger(url)
    assert ledger.version == migrations.LATEST
    rows = written["rows"]
    for name, old in rows.items():  # every row the release wrote is still there, as it was
        now = [json.loads(json.dumps(dict(r._mapping), default=str))
               for r in ledger._read(sa.select(schema.metadata.tables[name]))]
        assert all(row in now for row in old), name
    account = written["account"]
    assert sorted(owned_images(ledger, account, "nightly")) == written["owned"]
    assert_runs_carried(ledger, {"zw_policy_runs": rows["zw_policy_runs"], "zw_policy_steps": rows["zw_policy_steps"]})
    [killed] = [r["run_id"] for r in rows["zw_policy_runs"] if r["finished_at"] is None]
    run, resumed = lease.claim_run(ledger, account, "nightly", "nightly", "20991231T0000")
    assert resumed and run.run_id == killed  # its owner is gone: the next apply resumes it, with its own stamp
    assert run.stamp == next(r["stamp"] for r in rows["zw_policy_runs"] if r["run_id"] == killed)
    live_owners.discard(run.owner)
    Ledger(new_url).close()
    assert schema_shape(url) == schema_shape(new_url)
    ledger.close()
