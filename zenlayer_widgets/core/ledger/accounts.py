"""Whose rows a ledger row is: the account a client files intents, actions and policy runs under.

An account is the API endpoint plus the credentials' key: ``https://console.zenlayer.com#key=AKID...`` for an
access key pair (the key id is not secret: the console shows it), ``...#token=<16 hex>`` for a bearer token (the
start of a SHA-256 of the token with a fixed prefix: it tells two tokens apart and cannot be turned back into
one). Every account lives at console.zenlayer.com, so the endpoint alone would mix them. Rows written before
accounts carried the key (version 4 and older) hold a bare endpoint: no key can be attributed to them, so no
client's account matches them (nothing is resumed, closed, adopted or rotated for them); histories can still
show them, marked by :func:`unattributed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...api.credentials import credentials_key as credentials_key

if TYPE_CHECKING:
    from ...api.credentials import Credentials

#: Between the endpoint (or the name ZENLAYER_LEDGER_ACCOUNT gives) and the key.
SEPARATOR = "#"


def account_name(where: str, credentials: Credentials) -> str:
    """The account of ``credentials`` at ``where`` (an endpoint, or the name ZENLAYER_LEDGER_ACCOUNT gives)."""
    return f"{where}{SEPARATOR}{credentials_key(credentials)}"


def unattributed(account: str) -> str | None:
    """The bare endpoint (or name) rows of ``account`` were filed under before accounts carried the key."""
    where, separator, _ = account.rpartition(SEPARATOR)
    return where if separator else None
