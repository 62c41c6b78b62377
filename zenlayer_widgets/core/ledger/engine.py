"""Engines for the ledger's databases: SQLite (WAL, immediate transactions, a private file) and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool


def _prepare_sqlite(engine: sa.Engine) -> None:
    """WAL (readers never block the writer), a busy timeout (writers wait, not fail), real transactions."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below, not pysqlite's guesswork
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 15000")
        if engine.url.database not in (None, "", ":memory:"):
            _journal_mode_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front: no upgrade deadlocks


def _journal_mode_wal(cursor: Any, timeout: float = 15.0) -> None:
    """``PRAGMA journal_mode = WAL``, tried again while the file is locked (up to the busy timeout).

    Switching a new file to WAL needs a lock SQLite does not wait for with the busy timeout: while another
    connection holds a write transaction (two kernels opening a new ledger at once, the other one migrating),
    it fails at once with "database is locked"."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def sqlite_file_url(path: str | os.PathLike[str]) -> str:
    """The URL of a SQLite ledger file, created (mode 0600, its folder 0700) when missing."""
    from pathlib import Path

    path = Path(path).expanduser().absolute()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # SQLite's -wal and -shm files copy this mode
    return sa.URL.create("sqlite", database=str(path)).render_as_string()


def make_engine(url: str | sa.URL) -> sa.Engine:
    """An engine for a ledger URL (``sqlite://`` in memory, ``sqlite:////path``, ``postgresql://`` or ``postgres://``)."""
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    url = sa.make_url(url)
    if url.get_backend_name() == "sqlite":
        memory = url.database in (None, "", ":memory:")
        options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 15}}
        if memory:
            options["poolclass"] = StaticPool  # one shared connection: the in-memory database lives in it
        engine = sa.create_engine(url, **options)
        _prepare_sqlite(engine)
        return engine
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    return sa.create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4)
