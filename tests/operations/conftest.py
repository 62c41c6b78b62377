"""Fixtures of the operation tests: an in-process emulator with quick transitions, a client whose settle window is
short (0.2 s timeout, 0.3 s margin: 0.7 s) and whose 429 retries wait milliseconds, a ledger file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from zenlayer_widgets.core import reconcile
from zenlayer_widgets.core.ledger import Ledger
from zenlayer_widgets.emulator import mock_zenlayer

from .helpers import FAST_RETRIES


@pytest.fixture
def mock_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The in-process emulator: 0.05 s transitions, late requests land after 0.2 s (inside the settle window)."""
    monkeypatch.setattr(reconcile, "SETTLE_MARGIN_SECONDS", 0.3)
    with mock_zenlayer(transition_seconds=0.05) as emulator:
        emulator.backend.late_seconds = 0.2
        yield emulator


@pytest.fixture
def mock_aclient(mock_emulator):  # noqa: ANN001, ANN201
    client = mock_emulator.async_client(timeout=0.2)
    client.retry_policy = FAST_RETRIES
    return client


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite3")
