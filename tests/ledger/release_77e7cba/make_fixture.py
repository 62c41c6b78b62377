"""Re-make the held-out upgrade fixture: ledgers WRITTEN BY the release at commit 77e7cba (schema version 7: policy
runs and steps in their own tables, operations of restore/verify/launch, run history).

Run it with that release's code first on the path (never this tree's)::

    rm -rf /tmp/zw-77e7cba && mkdir /tmp/zw-77e7cba && git archive 77e7cba | tar -x -C /tmp/zw-77e7cba
    PYTHONPATH=/tmp/zw-77e7cba .venv/bin/python tests/ledger/release_77e7cba/make_fixture.py \\
        tests/ledger/release_77e7cba [start | postgresql+psycopg://...a fresh schema's URL...]

It writes ``ledger.sqlite3`` and, given a PostgreSQL URL whose schema is empty (``start``: a throwaway cluster of
tests/pg_cluster.py), ``ledger.postgresql.sql`` (pg_dump --inserts, the schema name taken out); ``expected.json``
lists what each holds (the rows, the images each policy owns, the unfinished run), so test_release_upgrade.py can
prove nothing was lost.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import sqlalchemy as sa

import zenlayer_widgets as zw
from zenlayer_widgets.core.ledger import Ledger, account_of, schema
from zenlayer_widgets.core.policy import owned_images
from zenlayer_widgets.emulator import mock_zenlayer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/ledger: the 6a23087 generator's helpers
from release_6a23087.make_fixture import dump_postgresql  # noqa: E402

FAST = 0.1
TABLES = ("zw_intents", "zw_actions", "zw_policy_runs", "zw_policy_steps", "zw_operations", "zw_operation_steps",
          "zw_run_history")


class Killed(BaseException):
    """The apply's process dies here (in-process: the run is left exactly as a kill leaves it)."""


def write(ledger: Ledger) -> dict[str, object]:
    """A closed create, two finished runs of "nightly" (creates and deletes), a verified image (operations), and a
    run of "nightly" killed while its new image was CREATING (its step planned, with the image id)."""
    with mock_zenlayer(transition_seconds=0.2) as emulator:
        client = emulator.client()
        build = emulator.backend.instance_named("build-hkg-01").instance_id
        zw.create_image(client, build, "release-closed", ledger=ledger, poll_interval=FAST)
        policy = zw.Policy("nightly", keep=1, instance_ids=(build,))
        zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
        second = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
        zw.verify_image(client, second.results[0].image_id, ledger=ledger, poll_interval=FAST)

        def kill(_instance: str, phase: str) -> None:
            if phase == "submitted":
                raise Killed

        try:
            zw.apply_rotation(client, policy, ledger, on_step=kill, poll_interval=FAST)
        except Killed:
            pass
        account = account_of(client)
        return {"account": account, "owned": sorted(owned_images(ledger, account, "nightly"))}


def contents(ledger: Ledger) -> dict[str, list[dict[str, object]]]:
    out = {}
    for name in TABLES:
        rows = [dict(r._mapping) for r in ledger._read(sa.select(schema.metadata.tables[name]))]
        out[name] = json.loads(json.dumps(sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str)),
                                          default=str))
    return out


def main(folder: Path, postgresql_url: str | None) -> None:
    if Path(zw.__file__).resolve().is_relative_to(Path(__file__).resolve().parents[3]):
        raise SystemExit(f"zenlayer_widgets comes from this tree ({zw.__file__}): put release 77e7cba first on PYTHONPATH")
    expected: dict[str, object] = {}
    for extra in ("", "-wal", "-shm"):
        Path(f"{folder / 'ledger.sqlite3'}{extra}").unlink(missing_ok=True)
    ledger = Ledger(folder / "ledger.sqlite3")
    assert ledger.version == 7, ledger.version
    expected["sqlite"] = {**write(ledger), "rows": contents(ledger)}
    ledger.close()
    if postgresql_url:
        ledger = Ledger(postgresql_url)
        expected["postgresql"] = {**write(ledger), "rows": contents(ledger)}
        ledger.close()
        dump_postgresql(postgresql_url, folder / "ledger.postgresql.sql")
    (folder / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True, default=str) + "\n")
    with sa.create_engine(f"sqlite:///{folder / 'ledger.sqlite3'}").connect() as connection:  # one file, no WAL beside it
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
