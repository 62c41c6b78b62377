"""What only the ledger tests need: a second empty database of the same kind as ``ledger_url``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def fresh_url(ledger_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """``fresh_url("name")``: another empty ledger database beside ``ledger_url`` (a SQLite file, a PostgreSQL schema)."""

    def make(name: str) -> str:
        if ledger_url.startswith("sqlite"):
            from zenlayer_widgets.core.ledger.engine import sqlite_file_url

            return sqlite_file_url(tmp_path / f"{name}.sqlite3")
        import pg_cluster

        return pg_cluster.fresh_schema_url(request.getfixturevalue("postgres_base_url"))

    return make
