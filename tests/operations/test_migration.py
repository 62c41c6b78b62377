"""Migration 6 (zw_operations, zw_operation_steps): a fresh ledger and one upgraded from version 3 get the tables
schema.py declares, on SQLite and PostgreSQL; a version missing below an applied one is applied too."""

from __future__ import annotations

import sqlalchemy as sa

from zenlayer_widgets.core.ledger import Ledger, schema, schema_version_of
from zenlayer_widgets.core.ledger import migrations as m


def _shape(ledger: Ledger, table: str) -> tuple[set[str], set[str]]:
    inspector = sa.inspect(ledger.engine)
    return ({c["name"] for c in inspector.get_columns(table)}, {i["name"] for i in inspector.get_indexes(table)})


def test_a_fresh_ledger_has_the_operation_tables_as_declared(ledger_url: str) -> None:
    ledger = Ledger(ledger_url)
    for table in (schema.operations, schema.operation_steps):
        columns, indexes = _shape(ledger, table.name)
        assert columns == {c.name for c in table.columns}
        assert indexes == {i.name for i in table.indexes}
    assert schema_version_of(ledger) >= 6


def test_a_version_3_ledger_gains_them(ledger_url: str, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(m, "MIGRATIONS", [x for x in m.MIGRATIONS if x[0] <= 3])
    monkeypatch.setattr(m, "LATEST", 3)
    old = Ledger(ledger_url)
    assert not sa.inspect(old.engine).has_table("zw_operations")
    old.close()
    monkeypatch.undo()
    upgraded = Ledger(ledger_url)
    assert _shape(upgraded, "zw_operations")[0] == {c.name for c in schema.operations.columns}


def test_a_missing_lower_version_is_applied_after_a_higher_one(ledger_url: str, monkeypatch) -> None:  # noqa: ANN001
    Ledger(ledger_url).close()  # at the latest version (6)
    applied: list[int] = []
    late = (4, "a version added below 6 by a branch merged later", lambda connection: applied.append(4))
    monkeypatch.setattr(m, "MIGRATIONS", sorted([*m.MIGRATIONS, late]) if all(x[0] != 4 for x in m.MIGRATIONS)
                        else m.MIGRATIONS)
    Ledger(ledger_url)
    assert applied in ([4], [])  # [] only once a real version 4 is on this branch (then it was applied at creation)
    with Ledger(ledger_url).engine.connect() as connection:
        versions = set(connection.execute(sa.select(schema.schema_version.c.version)).scalars())
    assert {1, 2, 3, 4, 6} <= versions
