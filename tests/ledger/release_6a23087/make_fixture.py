"""Re-make the held-out upgrade fixture: ledgers WRITTEN BY the release at commit 6a23087 (schema version 3).

Run it with that release's code first on the path (never this tree's)::

    rm -rf /tmp/zw-6a23087 && mkdir /tmp/zw-6a23087 && git archive 6a23087 | tar -x -C /tmp/zw-6a23087
    PYTHONPATH=/tmp/zw-6a23087 .venv/bin/python tests/ledger/release_6a23087/make_fixture.py \\
        tests/ledger/release_6a23087 [start | postgresql+psycopg://...a fresh schema's URL...]

It writes ``ledger.sqlite3`` (an account's ledger), ``sandbox/ledger.sqlite3`` (the shared sandbox's) and, given
a PostgreSQL URL whose schema is empty (``start``: a throwaway cluster of tests/pg_cluster.py),
``ledger.postgresql.sql``: a plain-SQL dump (pg_dump --inserts, the schema name taken out) that
test_release_upgrade.py loads into a fresh schema. ``expected.json`` lists what each
holds, so the test can prove nothing was lost.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

import zenlayer_widgets as zw
from zenlayer_widgets.core.ledger import Ledger, account_of, ledger_for, schema
from zenlayer_widgets.emulator import mock_zenlayer

FAST = 0.05


def write(ledger: Ledger, sandbox: bool) -> None:
    """Closed and open intents, actions, a finished and an unfinished policy run with steps."""
    with mock_zenlayer(transition_seconds=0.2) as emulator:
        client = emulator.client(sandbox=sandbox)
        ids = {i.instance_name: i.instance_id for i in emulator.backend.instances.values()}
        build = ids["build-hkg-01"]
        zw.create_image(client, build, "release-closed", ledger=ledger, poll_interval=FAST)  # closed: available
        policy = zw.Policy("nightly", keep=1, instance_ids=(build,))
        zw.apply_rotation(client, policy, ledger, poll_interval=FAST)  # a run with its steps, creates and deletes
        zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
        account = account_of(client)
        other = next(i for name, i in ids.items() if name != "build-hkg-01")
        zone = emulator.backend.instances[other].zone_id
        entry = ledger.begin(account, other, zone, "release-open", "left open", settle_seconds=60.0)
        ledger.mark_sent(entry.intent_id, entry.owner)  # sent, then the process died: open, no outcome
        ledger.record_action("stop", account=account, outcome="ok", zone_id=zone, instance_id=other)
        ledger.record_action("start", account=account, outcome="planned", zone_id=zone, instance_id=other)
        t = schema.policy_runs.c  # an unfinished run (a crash mid-apply) with a planned step
        ledger._write(schema.policy_runs.insert().values(
            run_id="f" * 32, policy="weekly", account=account, name_prefix="weekly", stamp="20261201T0000",
            started_at="2026-12-01T00:00:00.000+00:00", who="ops@host", owner="e" * 32, owner_host="host",
            owner_pid=1, heartbeat_at="2026-12-01T00:00:01.000+00:00"))
        ledger._write(schema.policy_steps.insert().values(
            run_id="f" * 32, instance_id=other, policy="weekly", account=account, zone_id=zone,
            image_name="weekly-20261201T0000", state="planned", updated_at="2026-12-01T00:00:00.000+00:00"))
        assert ledger._read(sa.select(t.run_id))


def contents(ledger: Ledger) -> dict[str, list[dict[str, object]]]:
    """Every row of every table but the schema version's, sorted: what an upgrade must keep."""
    out = {}
    for table in (schema.intents, schema.actions, schema.policy_runs, schema.policy_steps):
        rows = [dict(r._mapping) for r in ledger._read(sa.select(table))]
        out[table.name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def dump_postgresql(url: str, target: Path) -> None:
    engine_url = sa.make_url(url)
    schema_name = re.search(r"search_path=([\w]+)", str(engine_url.query.get("options", ""))).group(1)
    command = ["pg_dump", "--inserts", "--no-owner", "--no-privileges", f"--schema={schema_name}",
               f"--host={engine_url.query['host']}", f"--port={engine_url.query['port']}",
               f"--username={engine_url.username}", engine_url.database]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    kept = [line for line in text.splitlines()
            if not line.startswith(("\\", "CREATE SCHEMA", "SELECT pg_catalog.set_config('search_path'", "--"))]
    target.write_text("\n".join(kept).replace(f"{schema_name}.", "") + "\n")


def main(folder: Path, postgresql_url: str | None) -> None:
    if Path(zw.__file__).resolve().is_relative_to(Path(__file__).resolve().parents[3]):
        raise SystemExit(f"zenlayer_widgets comes from this tree ({zw.__file__}): put release 6a23087 first on PYTHONPATH")
    expected: dict[str, object] = {}
    os.environ["ZENLAYER_SANDBOX_DIR"] = str(folder / "sandbox")
    for path in (folder / "ledger.sqlite3", folder / "sandbox" / "ledger.sqlite3"):
        for extra in ("", "-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
    ledger = Ledger(folder / "ledger.sqlite3")
    write(ledger, sandbox=False)
    expected["sqlite"] = contents(ledger)
    ledger.close()
    with mock_zenlayer() as emulator:
        sandbox = ledger_for(emulator.client(sandbox=True))
    write(sandbox, sandbox=True)
    expected["sandbox"] = contents(sandbox)
    sandbox.close()
    if postgresql_url:
        ledger = Ledger(postgresql_url)
        write(ledger, sandbox=False)
        expected["postgresql"] = contents(ledger)
        ledger.close()
        dump_postgresql(postgresql_url, folder / "ledger.postgresql.sql")
    (folder / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True, default=str) + "\n")
    for path in (folder / "ledger.sqlite3", folder / "sandbox" / "ledger.sqlite3"):  # one file each, no WAL beside it
        with sa.create_engine(f"sqlite:///{path}").connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode = DELETE")


if __name__ == "__main__":
    given = sys.argv[2] if len(sys.argv) > 2 else None
    if given == "start":
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: pg_cluster
        import pg_cluster

        cluster = pg_cluster.start_cluster()
        try:
            main(Path(sys.argv[1]), pg_cluster.fresh_schema_url(cluster.url))
        finally:
            cluster.stop()
    else:
        main(Path(sys.argv[1]), given)
