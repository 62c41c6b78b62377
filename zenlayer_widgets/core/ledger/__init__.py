"""The ledger: CreateImage intents and every action the package takes, in a real database.

Where it lives (:func:`ledger_for`):

* ``ZENLAYER_JOURNAL`` unset: SQLite, ``<user data dir>/zenlayer-widgets/ledger.sqlite3``
  (``platformdirs``; ``~/.local/share/...`` on Linux);
* ``ZENLAYER_JOURNAL=/some/file``: that SQLite file (a ``*.jsonl`` path is an old journal: the
  ledger goes beside it as ``*.sqlite3`` and the journal is imported once);
* ``ZENLAYER_JOURNAL=postgresql://user@host/db``: PostgreSQL (psycopg 3), one ledger for a team;
* every sandbox client: ``ledger.sqlite3`` in the shared sandbox's folder (``ZENLAYER_SANDBOX_DIR``), so
  the sandbox's history survives kernel restarts and never mixes with an account's;
* ``ZENLAYER_JOURNAL=off``: an in-memory ledger of this process (the sandbox's too).

An old ``~/.zenlayer/journal.jsonl`` is imported into the default ledger once.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .accounts import account_name, unattributed
from .engine import sqlite_file_url
from .legacy_import import import_journal
from .records import (
    ACTION_KINDS,
    ADOPTED,
    AVAILABLE_OUTCOME,
    FAILED,
    FINAL_OUTCOMES,
    GONE,
    NOT_MADE,
    PRUNE_ACTIONS_AFTER_DAYS,
    PRUNE_CLOSED_INTENTS_AFTER_DAYS,
    SUBMITTED,
    TIMEOUT,
    UNKNOWN,
    Action,
    ForeignIntent,
    IntentConflict,
    LedgerEntry,
    LedgerError,
    NotOwner,
)
from .store import Ledger

if TYPE_CHECKING:
    from ...api.client import AsyncZenlayerClient, ZenlayerClient

#: Environment variable: a SQLite file, a ``postgresql://`` URL, or ``off`` (in memory).
ENV_JOURNAL = "ZENLAYER_JOURNAL"
#: Environment variable: the shared sandbox's folder (the sandbox's ledger is a file in it).
ENV_SANDBOX_DIR = "ZENLAYER_SANDBOX_DIR"
#: Environment variable: a name that replaces the API endpoint in the account rows are filed under (the key stays).
ENV_ACCOUNT = "ZENLAYER_LEDGER_ACCOUNT"
OFF_VALUES = frozenset({"off", "none", "memory", "0", "false", "no"})

# Process-wide (see zenlayer_widgets._state): one Ledger (one engine, one connection pool) per database URL, and the
# in-memory ledger, made on first use (the sandbox's fallback and ZENLAYER_JOURNAL=off's).
_ledgers: dict[str, Ledger] = {}
_ledgers_lock = threading.Lock()
_memory_lock = threading.Lock()
_memory_ledger: Ledger | None = None


def forget_ledgers() -> None:
    """Forget the cached ledgers and the in-memory one (for ``zenlayer_widgets._state.reset_for_tests``): the next
    :func:`open_ledger` opens its database anew, the next :func:`memory_ledger` is empty. Open ones stay usable."""
    global _memory_ledger
    with _ledgers_lock:
        _ledgers.clear()
    with _memory_lock:
        _memory_ledger = None


def memory_ledger() -> Ledger:
    """This process's in-memory ledger."""
    global _memory_ledger
    with _memory_lock:
        if _memory_ledger is None:
            _memory_ledger = Ledger(None)
        return _memory_ledger


def default_ledger_path() -> Path:
    """``<user data dir>/zenlayer-widgets/ledger.sqlite3``."""
    import platformdirs

    return platformdirs.user_data_path("zenlayer-widgets", appauthor=False) / "ledger.sqlite3"


def sandbox_ledger_path() -> Path:
    """``$ZENLAYER_SANDBOX_DIR/ledger.sqlite3``, else in the sandbox folder of the user's data directory."""
    import platformdirs

    named = os.environ.get(ENV_SANDBOX_DIR, "").strip()
    folder = Path(named).expanduser().absolute() if named else (
        platformdirs.user_data_path("zenlayer-widgets", appauthor=False) / "sandbox")
    return folder / "ledger.sqlite3"


def legacy_journal_path() -> Path:
    """Where version 0.1 kept its journal: ``~/.zenlayer/journal.jsonl``."""
    return Path.home() / ".zenlayer" / "journal.jsonl"


def _sqlite_file(path: Path) -> str:
    return sqlite_file_url(path)


def resolve(setting: str) -> tuple[str | None, Path | None]:
    """(database URL or None for in memory, a legacy journal to import) for a ``ZENLAYER_JOURNAL`` value."""
    setting = setting.strip()
    if setting.lower() in OFF_VALUES:
        return None, None
    if "://" in setting:
        return setting, None
    if not setting:
        return _sqlite_file(default_ledger_path()), legacy_journal_path()
    path = Path(setting).expanduser()
    if path.suffix == ".jsonl":
        return _sqlite_file(path.with_suffix(".sqlite3")), path
    return _sqlite_file(path), None


def open_ledger(setting: str) -> Ledger:
    """The (cached) ledger for a ``ZENLAYER_JOURNAL`` value, migrated, with any old journal imported once."""
    with _ledgers_lock:
        try:
            url, legacy = resolve(setting)
        except OSError as error:
            raise LedgerError(f"The ledger {setting or default_ledger_path()} cannot be created ({type(error).__name__}); "
                              f"nothing was sent. Point {ENV_JOURNAL} at a writable file, a PostgreSQL URL, or off.") from None
        if url is None:
            return memory_ledger()
        ledger = _ledgers.get(url)
        if ledger is None:
            ledger = Ledger(url)
            if legacy is not None and legacy.exists():
                import_journal(ledger, legacy)
            ledger.prune()
            _ledgers[url] = ledger
        return ledger


def ledger_for(client: ZenlayerClient | AsyncZenlayerClient) -> Ledger:
    """The ledger a client's creates and actions go to: in memory with ``ZENLAYER_JOURNAL=off``; for the
    sandbox a file in the sandbox's folder (in memory if that cannot be written); else the one
    ``ZENLAYER_JOURNAL`` names (default: the SQLite file)."""
    setting = os.environ.get(ENV_JOURNAL, "")
    if getattr(client, "sandbox", False):
        if setting.strip().lower() in OFF_VALUES:
            return memory_ledger()
        try:
            return open_ledger(str(sandbox_ledger_path()))
        except LedgerError:
            return memory_ledger()
    return open_ledger(setting)


def account_of(client: ZenlayerClient | AsyncZenlayerClient) -> str:
    """What intents, actions and policy runs are filed under: the API endpoint (or ``ZENLAYER_LEDGER_ACCOUNT``)
    plus the access key id or a digest of the token (:mod:`.accounts`), so two accounts at one endpoint never mix."""
    return account_name(os.environ.get(ENV_ACCOUNT, "").strip() or client.base_url, client.credentials)


def schema_version_of(ledger: Ledger) -> int:
    """The schema version the ledger's database is at."""
    from .migrations import current_version

    with ledger.engine.connect() as connection:
        return current_version(connection)

__all__ = [
    "ACTION_KINDS", "ADOPTED", "AVAILABLE_OUTCOME", "Action", "ENV_ACCOUNT", "ENV_JOURNAL", "FAILED", "FINAL_OUTCOMES",
    "ForeignIntent", "GONE", "IntentConflict", "Ledger", "LedgerEntry", "LedgerError", "NOT_MADE", "NotOwner",
    "PRUNE_ACTIONS_AFTER_DAYS", "PRUNE_CLOSED_INTENTS_AFTER_DAYS", "SUBMITTED", "TIMEOUT", "UNKNOWN", "account_of",
    "default_ledger_path", "forget_ledgers", "import_journal",
    "sandbox_ledger_path", "ledger_for", "legacy_journal_path", "open_ledger", "schema_version_of", "unattributed",
]
