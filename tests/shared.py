"""Helpers every test folder may import (``from shared import ids_by_name``); the shared fixtures
themselves are in tests/conftest.py. Plain functions only: no fixtures, nothing pytest runs."""

from __future__ import annotations

import asyncio

from zenlayer_widgets.api.credentials import Credentials
from zenlayer_widgets.emulator import RunningEmulator


def credentials_for(emulator: RunningEmulator, password: str | None = None) -> Credentials:
    """The emulator's key pair (or its key id with ``password`` instead, to provoke a refusal)."""
    return Credentials(access_key_id=emulator.access_key_id, access_key_password=password or emulator.access_key_password)


def account_for(emulator: RunningEmulator) -> str:
    """The ledger account a client of ``emulator`` with its key pair files rows under (endpoint + key id)."""
    from zenlayer_widgets.core.ledger.accounts import account_name

    return account_name(emulator.url, credentials_for(emulator))


def ids_by_name(emulator: RunningEmulator) -> dict[str, str]:
    """Instance name -> instance id in the emulator's fleet (the demo fleet's names are stable)."""
    return {record.instance_name: record.instance_id for record in emulator.backend.instances.values()}


async def fast(seconds: float) -> None:
    """A workflow's waits (polling, backoff) cut to at most 10 ms."""
    await asyncio.sleep(min(seconds, 0.01))
