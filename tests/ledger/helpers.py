"""What the ledger tests compare: a database's schema as the package sees it, read back from the database."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa


def _index_definitions(connection: sa.Connection) -> dict[str, str]:
    """Index name -> its full definition as the database holds it (columns, UNIQUE, the partial-index predicate)."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        return {name: " ".join(sql.split()) for name, sql in rows}
    schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
    rows = connection.exec_driver_sql(f"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '{schema}'")
    return {name: definition.replace(f"{schema}.", "") for name, definition in rows if not name.endswith("_pkey")}


def schema_shape(url: str | sa.URL) -> dict[str, Any]:
    """Tables -> columns (type, nullable), primary key; and every index's definition."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            tables = {
                name: {
                    "columns": {c["name"]: (str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)},
                    "primary_key": inspector.get_pk_constraint(name)["constrained_columns"],
                }
                for name in inspector.get_table_names()
            }
            return {"tables": tables, "indexes": _index_definitions(connection)}
    finally:
        engine.dispose()


def index_columns(shape: dict[str, Any], name: str) -> list[str]:
    """The columns of index ``name`` in a :func:`schema_shape`."""
    definition = shape["indexes"][name]
    inside = re.search(r"\(([^)]*)\)", definition.split(" ON ", 1)[1])
    assert inside is not None, definition
    return [part.strip().strip('"') for part in inside.group(1).split(",")]
