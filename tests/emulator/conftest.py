from __future__ import annotations

from typing import Iterator

import pytest

from zenlayer_widgets.emulator import RunningEmulator, start_emulator

TRANSITION = 0.2


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A fresh demo-fleet emulator on a free loopback port; transitions take 0.2 s."""
    with start_emulator(transition_seconds=TRANSITION) as running:
        yield running


@pytest.fixture
def slow_emulator() -> Iterator[RunningEmulator]:
    """Transitions take an hour unless a test calls ``backend.advance`` (states stay put)."""
    with start_emulator(transition_seconds=3600) as running:
        yield running
