"""The plain-Python workflow a runbook calls: preflight, create exactly once, wait, stop."""

from __future__ import annotations

import pytest

import zenlayer_widgets as zw
from shared import credentials_for, ids_by_name
from zenlayer_widgets.api.client import ZenlayerClient
from zenlayer_widgets.core.create import stop_instance_async
from zenlayer_widgets.emulator import mock_zenlayer


def names_in(emulator, zone: str) -> list[str]:
    return sorted(i.image_name for i in emulator.backend.images.values() if i.zone_id == zone and i.image_type == "CUSTOM_IMAGE")


def test_sync_create_image_waits_until_available(mock_client, mock_emulator):
    seen: list[str] = []
    result = zw.create_image(
        mock_client, ids_by_name(mock_emulator)["build-hkg-01"], "nightly-1", "from the runbook", poll_interval=0.1,
        on_progress=lambda p: seen.append(p.phase),
    )
    assert result.status == "AVAILABLE" and result.image.image_size == 60
    assert result.request_id.startswith("T") and not result.adopted
    assert "submitting" in seen and "done" in seen
    assert names_in(mock_emulator, "HKG-A") == ["nightly-1", "web-golden-2025"]


def test_sync_preflight_reports_every_reason(mock_client, mock_emulator):
    checks = zw.preflight(mock_client, ids_by_name(mock_emulator)["media-lax-01"], "bad name!")
    assert not checks.ok
    assert {c.key for c in checks.failures} == {"name", "power_state", "zone"}
    assert "LAX-A does not support custom images" in checks.summary()
    with pytest.raises(zw.PreflightFailed) as refused:  # the name rule refuses it before the instance is looked up
        zw.create_image(mock_client, ids_by_name(mock_emulator)["media-lax-01"], "bad name!")
    assert [c.key for c in refused.value.preflight.failures] == ["name"] and "Image name" in str(refused.value)
    assert names_in(mock_emulator, "LAX-A") == []


def test_unknown_instance_is_a_preflight_failure(mock_client):
    with pytest.raises(zw.PreflightFailed, match="Instance 404404 was not found"):
        zw.create_image(mock_client, "404404", "x1")


def test_wait_timeout_reports_the_image_id_and_last_status():
    with mock_zenlayer(transition_seconds=3600) as slow:
        with slow.client() as client:
            with pytest.raises(zw.ImageWaitTimeout) as timed_out:
                zw.create_image(client, ids_by_name(slow)["build-hkg-01"], "slow-one", timeout=0.3, poll_interval=0.1)
            error = timed_out.value
            assert error.image_id.startswith("img-") and error.last_status == "CREATING"
            assert error.image_id in str(error) and "wait_for_image" in str(error)
            assert names_in(slow, "HKG-A") == ["slow-one", "web-golden-2025"]  # not lost, not duplicated


@pytest.mark.parametrize("fault", ["lost_response", "error"])
def test_unknown_outcome_is_reconciled_never_duplicated(emulator, fault, monkeypatch):
    """lost_response: the image was made and is adopted; error (nothing applied): sent again only once the
    settle window (2 x the 0.5 s timeout + 0.2 s here) is over, and at most three times."""
    from zenlayer_widgets.core import reconcile

    monkeypatch.setattr(reconcile, "SETTLE_MARGIN_SECONDS", 0.2)
    # the instance stays IMAGING (what lets a reconcile adopt the image of a lost answer) until the run follows
    # the image it made or adopted; on the 0.2 s clock a slow lookup found it STOPPED again and could not adopt
    emulator.backend.transition_seconds = 3600

    def made_once_followed(progress) -> None:
        if progress.phase == "waiting":
            emulator.backend.advance(3600)

    emulator.set_faults([f"CreateImage:{fault}:1"])
    build = ids_by_name(emulator)["build-hkg-01"]
    with ZenlayerClient(credentials_for(emulator), base_url=emulator.url, sandbox=True, timeout=0.5) as client:
        with pytest.raises(Exception) if fault == "error" else _no_error():
            result = zw.create_image(client, build, "exactly-once", poll_interval=0.1, on_progress=made_once_followed)
        if fault == "lost_response":
            assert result.adopted and result.status == "AVAILABLE" and result.request_id is None
        assert names_in(emulator, "HKG-A").count("exactly-once") == (1 if fault == "lost_response" else 0)
        emulator.set_faults([])
        if fault == "error":  # every attempt failed before applying: the next intent makes exactly one
            again = zw.create_image(client, build, "exactly-once", poll_interval=0.1, on_progress=made_once_followed)
            assert again.status == "AVAILABLE"
            assert names_in(emulator, "HKG-A").count("exactly-once") == 1


async def test_stop_instance_follows_stopping_to_stopped(mock_aclient, mock_emulator):
    web = ids_by_name(mock_emulator)["web-hkg-01"]
    states: list[str] = []
    mock_emulator.backend.transition_seconds = 3600  # STOPPING until the caller has seen it (then the clock moves)

    def on_status(status: str) -> None:
        states.append(status)
        if status == "STOPPING":
            mock_emulator.backend.advance(3600)

    assert await stop_instance_async(mock_aclient, web, poll_interval=0.1, on_status=on_status) == "STOPPED"
    assert states[0] == "STOPPING" and states[-1] == "STOPPED"


class _no_error:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_lone_surrogate_in_a_name_is_refused_before_sending_with_a_clear_message(mock_client, mock_emulator):
    sent = mock_client.request_count
    with pytest.raises(ValueError, match="U\\+D800, a lone surrogate UTF-8 cannot carry; nothing was sent"):
        mock_client.create_image(ids_by_name(mock_emulator)["build-hkg-01"], "bad\ud800name")
    assert mock_client.request_count == sent
    assert names_in(mock_emulator, "HKG-A") == ["web-golden-2025"]
