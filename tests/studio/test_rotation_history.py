"""The studio's rotation apply is a run of the run history (zw.run_history), as a runbook's is."""

from __future__ import annotations

import zenlayer_widgets as zw
from studio.test_rotation_panel import apply, rotation_for
from zenlayer_widgets.core.ledger import ledger_for


async def test_an_apply_from_the_studio_is_in_the_run_history(controller, mock_emulator, mock_aclient):
    ok = await apply(rotation_for(controller, mock_emulator, "build-hkg-01", prefix="studio"))
    assert ok is not None and ok.ok
    history = zw.run_history(mock_aclient, ledger=ledger_for(mock_aclient))
    assert list(history["policy"]) == ["studio"] and list(history["outcome"]) == ["ok"]
    assert list(history["kind"]) == ["studio"] and "1 created" in history["detail"][0] and history["ended"][0]
