"""notebooks/rotate_images.ipynb under papermill as two schedulers would fire it: one run per window, the second
exits 0 saying so; a failed run alerts a loopback webhook; the run history lists every run with its output notebook."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import papermill
import pytest
from notebooks.test_rotate_runbook import rotate
from notebooks.test_runbooks_headless import demo_id, sandbox_env  # noqa: F401 - the fixture

import zenlayer_widgets as zw
from unattended.webhook import Webhook
from zenlayer_widgets.core.ledger import open_ledger


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    hook = Webhook()
    monkeypatch.setenv("ZENLAYER_ALERT_URLS", hook.url)  # the kernel papermill starts inherits it
    yield hook
    hook.close()


def test_one_run_per_window_alerts_and_history(sandbox_env: Path, webhook: Webhook) -> None:  # noqa: F811
    ledger = str(sandbox_env / "policy.sqlite3")
    build = demo_id("build-hkg-01")
    outputs = [str(sandbox_env / f"rotate-{n}.ipynb") for n in range(3)]
    first = rotate(sandbox_env, outputs[0], instance_ids=build, name_prefix="sched", apply=True, period="1d",
                   ledger_url=ledger, run_output=outputs[0])
    assert "Claimed window" in first and "1 created" in first
    second = rotate(sandbox_env, outputs[1], instance_ids=build, name_prefix="sched", apply=True, period="1d",
                    ledger_url=ledger, run_output=outputs[1])  # no exception: papermill exits 0
    assert "already claimed by run" in second and "nothing to do (exit 0)" in second and "1 created" not in second
    with pytest.raises(papermill.PapermillExecutionError):
        rotate(sandbox_env, outputs[2], instance_ids=demo_id("api-fra-01"), name_prefix="full", apply=True,
               period="1d", ledger_url=ledger, run_output=outputs[2])
    failed_at = time.monotonic()
    alert = webhook.wait_for(1, timeout=60)[0]
    assert time.monotonic() - failed_at < 60
    assert alert["title"] == "Zenlayer: zone full, policy full in FRA-A" and "Instances: api-fra-01" in alert["message"]
    history = zw.run_history(zw.connect(), ledger=open_ledger(ledger))
    assert list(history["outcome"]) == ["failed", "skipped", "ok"]
    assert list(history["output"]) == outputs[::-1] and all(Path(p).exists() for p in outputs)
    assert list(history["kind"]) == ["papermill"] * 3
    assert list(history["policy"]) == ["full", "sched", "sched"]
