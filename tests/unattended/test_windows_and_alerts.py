"""Period windows, run history and alerts of unattended rotation runs (core/windows.py, runs.py, alerts.py,
unattended.py) against the in-process emulator; the ledger tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import zenlayer_widgets as zw
from security.leaks import Secrets, find_leaks
from unattended.webhook import Webhook
from zenlayer_widgets.api import ReadOnlyError
from zenlayer_widgets.core.alerts import RUN_FAILED, RUN_MISSED, ZONE_FULL, alert_urls, rotation_alerts
from zenlayer_widgets.core.ledger import Ledger
from zenlayer_widgets.core.runs import recorded_run
from zenlayer_widgets.core.windows import parse_period, window_start
from zenlayer_widgets.emulator import mock_zenlayer

FAST = 0.1
DAY1 = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    hook = Webhook()
    monkeypatch.setenv("ZENLAYER_ALERT_URLS", hook.url)
    yield hook
    hook.close()


def instance(emulator: Any, name: str) -> str:
    return str(emulator.backend.instance_named(name).instance_id)


def images_named(emulator: Any, prefix: str) -> list[str]:
    return sorted(r.image_name for r in emulator.backend.images.values() if r.image_name.startswith(prefix + "-"))


def rotate(run: Any, client: Any, policy: zw.Policy, ledger: Ledger) -> Any:
    return run.apply(lambda: zw.apply_rotation(client, policy, ledger, poll_interval=FAST))


def test_periods_and_windows() -> None:
    assert parse_period("") is None and parse_period(None) is None
    assert parse_period("12h") == timedelta(hours=12) and parse_period("1d") == timedelta(days=1)
    for bad in ("1x", "0d", "-1d", "d", 5, "1.5h"):
        with pytest.raises(ValueError, match="period must be"):
            parse_period(bad)
    with pytest.raises(ValueError, match="period must be"):
        zw.Policy("sched", instance_ids=("1",), period="daily")
    assert window_start(datetime(2026, 12, 1, 13, 5, tzinfo=timezone.utc), timedelta(hours=12)) == \
        datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("ledger_url", ["sqlite", "postgresql"], indirect=True)
def test_two_schedulers_firing_one_window_run_it_once(ledger_url: str, mock_emulator: Any) -> None:
    build = instance(mock_emulator, "build-hkg-01")
    policy = zw.Policy("sched", instance_ids=(build,), period="1d")
    gate = threading.Barrier(2)
    firings: list[Any] = []
    errors: list[BaseException] = []

    def scheduler() -> None:  # each its own ledger connection and client, as two machines' cron would
        try:
            ledger, client = Ledger(ledger_url), mock_emulator.client()
            gate.wait()
            run = zw.begin_run(client, policy, ledger, apply=True, now=DAY1 + timedelta(minutes=1))
            firings.append(run)
            if run.go:
                rotate(run, client, policy, ledger)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(run.go for run in firings) == [False, True]
    second = next(run for run in firings if not run.go)
    assert "already claimed by run" in second.message and "nothing to do (exit 0)" in second.message
    assert len(images_named(mock_emulator, "sched")) == 1  # one CreateImage for the window, not two
    history = zw.run_history(mock_emulator.client(), ledger=Ledger(ledger_url))
    assert sorted(history["outcome"]) == ["ok", "skipped"]
    assert set(history["window"]) == {"2026-12-01T00:00:00.000+00:00"}


@pytest.mark.parametrize("ledger_url", ["sqlite", "postgresql"], indirect=True)
def test_a_missed_window_alerts_once_and_is_caught_up_once(ledger_url: str, mock_emulator: Any, webhook: Webhook) -> None:
    client, ledger = mock_emulator.client(), Ledger(ledger_url)
    policy = zw.Policy("sched", instance_ids=(instance(mock_emulator, "build-hkg-01"),), period="1d", catch_up=True)
    first = zw.begin_run(client, policy, ledger, apply=True, now=DAY1)
    rotate(first, client, policy, ledger)
    assert webhook.received == []
    later = zw.begin_run(client, policy, ledger, apply=True, now=DAY1 + timedelta(days=3))  # Dec 2 and 3: nobody ran
    alert = webhook.wait_for(1)[0]
    assert "run missed" in alert["title"] and "policy sched" in alert["title"]
    assert "2026-12-02T00:00:00.000+00:00, 2026-12-03T00:00:00.000+00:00" in alert["message"]
    assert "2026-12-03T00:00:00.000+00:00 is caught up once now" in alert["message"]
    assert later.claim.windows == ("2026-12-03T00:00:00.000+00:00", "2026-12-04T00:00:00.000+00:00")
    rotate(later, client, policy, ledger)
    assert len(images_named(mock_emulator, "sched")) == 2  # 3 made (Dec 1, the caught-up Dec 3, Dec 4), keep=2
    again = zw.begin_run(client, policy, ledger, apply=True, now=DAY1 + timedelta(days=3, hours=2))
    assert not again.go
    history = zw.run_history(client, ledger=ledger)
    assert sorted(history["window"].str[:10]) == ["2026-12-01", "2026-12-03", "2026-12-04", "2026-12-04"]
    assert sorted(history["outcome"]) == ["ok", "ok", "ok", "skipped"]
    assert (history["kind"].str.endswith("(catch-up)")).sum() == 1
    assert len(webhook.received) == 1  # reported once, not by the later firing


def test_without_catch_up_a_missed_window_is_only_reported(mock_emulator: Any, webhook: Webhook) -> None:
    client, ledger = mock_emulator.client(), Ledger(None)
    policy = zw.Policy("sched", instance_ids=(instance(mock_emulator, "build-hkg-01"),), period="12h")
    rotate(zw.begin_run(client, policy, ledger, apply=True, now=DAY1), client, policy, ledger)
    late = zw.begin_run(client, policy, ledger, apply=True, now=DAY1 + timedelta(hours=24))
    assert late.claim.missed == ("2026-12-01T12:00:00.000+00:00",) and late.claim.windows == (late.claim.window,)
    assert "not caught up (catch_up=False)" in webhook.wait_for(1)[0]["message"]


def test_a_failed_run_alerts_a_loopback_webhook_within_60_s_without_a_secret(webhook: Webhook) -> None:
    found = Secrets.generate()
    with mock_zenlayer(transition_seconds=0.2, access_key_id=found.key_id, access_key_password=found.password,
                       token=found.token) as emulator:
        client, ledger = emulator.client(), Ledger(None)
        full, missing = instance(emulator, "api-fra-01"), "9" * 13  # FRA-A is full of foreign images
        policy = zw.Policy("sched", instance_ids=(full, missing))
        run = zw.begin_run(client, policy, ledger, apply=True)
        plan = zw.plan_rotation(client, policy, ledger)
        outcome = run.apply(lambda: zw.apply_rotation(client, policy, ledger, poll_interval=FAST),
                            {i.instance_id: i.instance_name for i in plan.items})
        ended = time.monotonic()
        assert not outcome.ok
        alerts = webhook.wait_for(2, timeout=60)
        assert time.monotonic() - ended < 60
    by_title = {a["title"]: a["message"] for a in alerts}
    zone_full = by_title["Zenlayer: zone full, policy sched in FRA-A"]
    assert "Instances: api-fra-01" in zone_full and "What to do: delete images in the zone" in zone_full
    failed = next(m for t, m in by_title.items() if t.startswith("Zenlayer: run failed, policy sched"))
    assert f"{missing}: no such instance" in failed and "What to do:" in failed
    assert {ZONE_FULL, RUN_FAILED} <= {a.event for a in rotation_alerts(outcome)}
    assert find_leaks("\n".join(webhook.raw), found, "alert bodies") == []
    history = zw.run_history(client, ledger=ledger)
    assert list(history["outcome"]) == ["failed"] and "2 failed" in history["detail"][0]
    assert RUN_MISSED not in " ".join(a["title"] for a in alerts)


def test_a_run_that_stops_with_an_error_is_recorded_and_alerted(mock_emulator: Any, webhook: Webhook) -> None:
    client, ledger = mock_emulator.client(read_only=True), Ledger(None)
    policy = zw.Policy("sched", instance_ids=(instance(mock_emulator, "build-hkg-01"),))
    run = zw.begin_run(client, policy, ledger, apply=True, output="runs/rotate-1.ipynb")

    def broken() -> Any:
        raise ReadOnlyError("CreateImage")

    with pytest.raises(ReadOnlyError):
        run.apply(broken)
    message = webhook.wait_for(1)[0]["message"]
    assert "the run stopped: ReadOnlyError: CreateImage refused" in message and "rotate-1.ipynb" in message
    row = zw.run_history(client, ledger=ledger).iloc[0]
    assert row["outcome"] == "error" and row["output"].endswith("runs/rotate-1.ipynb")


def test_no_alert_urls_means_nothing_is_sent(mock_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZENLAYER_ALERT_URLS", raising=False)
    alert = zw.Alert(RUN_FAILED, "nightly", "x", "y")
    assert zw.send_alerts([alert]) == 0
    with pytest.raises(ValueError, match="event must be one of"):
        zw.Alert("bad", "nightly", "x", "y")


def test_recorded_run_keeps_an_escaping_error_as_the_outcome(mock_emulator: Any) -> None:
    client, ledger = mock_emulator.client(), Ledger(None)
    with pytest.raises(RuntimeError), recorded_run(client, "sched", {"keep": 2}, kind="studio", runbook="studio",
                                                   ledger=ledger):
        raise RuntimeError("the ledger went away\nsecond line")
    row = zw.run_history(client, ledger=ledger).iloc[0]
    assert (row["outcome"], row["detail"], row["kind"]) == ("error", "RuntimeError: the ledger went away", "studio")


def test_an_image_stuck_creating_past_the_limit_alerts(mock_emulator: Any, webhook: Webhook) -> None:
    client, ledger = mock_emulator.client(), Ledger(None)
    policy = zw.Policy("sched", instance_ids=(instance(mock_emulator, "build-hkg-01"),))
    made = rotate(zw.begin_run(client, policy, ledger, apply=True), client, policy, ledger).results[0].image_id
    assert webhook.received == []  # AVAILABLE at once: nothing stuck
    mock_emulator.backend._custom[made].status = "CREATING"  # the API never finishes it (images is a snapshot)
    later = zw.begin_run(client, policy, ledger, apply=True, now=datetime.now(timezone.utc) + timedelta(minutes=61))
    later.apply(lambda: zw.apply_rotation(client, policy, ledger, poll_interval=FAST), {policy.instance_ids[0]: "build-hkg-01"})
    alert = webhook.wait_for(1)[0]
    assert alert["title"] == "Zenlayer: image stuck CREATING, policy sched in HKG-A"
    assert "is still CREATING after 61 min" in alert["message"] and "Instances: build-hkg-01" in alert["message"]


def test_a_window_whose_run_stopped_with_an_error_is_retried_by_the_next_firing(mock_emulator: Any) -> None:
    client, ledger = mock_emulator.client(), Ledger(None)
    policy = zw.Policy("sched", instance_ids=(instance(mock_emulator, "build-hkg-01"),), period="1d")
    first = zw.begin_run(client, policy, ledger, apply=True, now=DAY1)

    def lost_ledger() -> Any:
        raise OSError("the disk went away")

    with pytest.raises(OSError):
        first.apply(lost_ledger)
    retry = zw.begin_run(client, policy, ledger, apply=True, now=DAY1 + timedelta(hours=1))
    assert retry.go and "stopped with an error in this window: this run retries it" in retry.message
    rotate(retry, client, policy, ledger)
    assert not zw.begin_run(client, policy, ledger, apply=True, now=DAY1 + timedelta(hours=2)).go  # done: not again
    assert len(images_named(mock_emulator, "sched")) == 1


def test_alert_urls_come_from_the_environment_else_the_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    path = tmp_path / "credentials.json"
    path.write_text('{"ops": {"token": "t-not-used", "alert_urls": ["json://127.0.0.1:9/a", "mailto://x@y.z"]},'
                    ' "default": {"token": "t2", "alert_urls": "json://127.0.0.1:9/default"}}')
    path.chmod(0o600)
    monkeypatch.setenv("ZENLAYER_CREDENTIALS_FILE", str(path))
    monkeypatch.delenv("ZENLAYER_ALERT_URLS", raising=False)
    assert alert_urls("ops") == ["json://127.0.0.1:9/a", "mailto://x@y.z"]
    assert alert_urls() == ["json://127.0.0.1:9/default"]
    monkeypatch.setenv("ZENLAYER_ALERT_URLS", "json://127.0.0.1:9/env, slack://T/B/C")
    assert alert_urls("ops") == ["json://127.0.0.1:9/env", "slack://T/B/C"]
