"""Once CreateImage was sent, the ledger failing (disk full, read-only SQLite, PostgreSQL gone) is a warning.

Before the send a ledger that cannot be written stops the create with a clear
:class:`~.ledger.LedgerError` (nothing was sent). After it, the image may exist: losing it to a
bookkeeping failure would be worse than the failure itself, so the run goes on from what it
knows in memory, and says (a ``RuntimeWarning``, logged too) which note could not be kept.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import TypeVar

from .ledger import ForeignIntent, IntentConflict, LedgerError, NotOwner

T = TypeVar("T")

log = logging.getLogger("zenlayer_widgets.core.ledger")


def warn_ledger(error: LedgerError, what: str) -> None:
    """Warn (and log) that ``what`` could not be read or kept in the ledger; the run goes on."""
    message = f"After CreateImage was sent, {what} failed: {error} The create goes on from what this run knows."
    log.warning(message)
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def or_memory(call: Callable[[], T], fallback: T, what: str) -> T:
    """``call()``, or ``fallback`` (what this run knows) with a warning when the ledger fails.

    A conflict, a lost ownership or another account's intent is not a failure of the ledger: it is raised as it is."""
    try:
        return call()
    except (IntentConflict, NotOwner, ForeignIntent):
        raise
    except LedgerError as error:
        warn_ledger(error, what)
        return fallback
