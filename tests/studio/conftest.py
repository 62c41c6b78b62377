"""Studio fixtures: a loaded controller over ``mock_aclient`` (tests/conftest.py: the in-process emulator)."""

from __future__ import annotations

import pytest


@pytest.fixture
async def controller(mock_aclient):
    from zenlayer_widgets.studio.controller import StudioController

    ctl = StudioController(mock_aclient, poll_interval=0.1, auto_refresh_seconds=0.2)
    await ctl.refresh()
    yield ctl
    ctl.close()
