"""Studio fixtures: a loaded controller over the shared ``aclient`` and ``emulator`` (tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
async def controller(aclient):
    from zenlayer_widgets.studio.controller import StudioController

    ctl = StudioController(aclient, poll_interval=0.05, auto_refresh_seconds=0.2)
    await ctl.refresh()
    yield ctl
    ctl.close()
