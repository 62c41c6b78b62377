"""Every piece of state the package keeps for the whole process, where it lives, and one reset for tests.

=====================================  ==========================================================================
``connection._clients``                the clients ``connect()`` handed out (weakly held): a re-run cell gets the
                                       same open client back, its connections still warm.
``connection._fallback``               the in-process emulator standing in when the shared sandbox cannot start.
``core.ledger._ledgers``               one ``Ledger`` (one engine and connection pool) per database URL.
``core.ledger._memory_ledger``         the in-memory ledger (the sandbox's fallback, ``ZENLAYER_JOURNAL=off``).
``core.ledger.ownership.live_owners``  the owner tokens of this process's runs at work now (a token of this
                                       process not in it belongs to a run that ended or crashed).
``api._network`` TLS contexts          verified ``ssl.SSLContext`` objects shared by clients while the CA files
                                       they were built from are unchanged.
``api.throttle._shared``               one request token bucket per (account, rate) when ``ZENLAYER_RATE_LIMIT``
                                       is set: every client and task of the process draws on the same budget.
``_runner._loop``                      the background event loop ``run_sync`` uses (never reset: async clients
                                       made on it keep their pools there).
``emulator.transport._numbers``        numbers in-process emulators' endpoints (never reset: two must never mix).
``api._wire`` decoder caches           pure functions of their arguments (never reset: nothing to forget).
=====================================  ==========================================================================

Each is documented where it lives. Nothing else in the package outlives the object that made it.
"""

from __future__ import annotations


def reset_for_tests() -> None:
    """The process as a fresh kernel would have it: no cached client, ledger, stand-in sandbox, live owner or TLS
    context. For tests (tests/conftest.py calls it before every test); the background loop stays."""
    from .api.client import forget_tls_contexts
    from .api.throttle import forget_buckets
    from .connection import forget_clients
    from .core.ledger import forget_ledgers
    from .core.ledger.ownership import live_owners

    forget_clients()
    forget_ledgers()
    live_owners.clear()
    forget_tls_contexts()
    forget_buckets()
