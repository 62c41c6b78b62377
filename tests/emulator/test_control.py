"""The moto-style control endpoints and the in-process API (start, stop, context manager, exports)."""

from __future__ import annotations

import httpx
import pytest

import zenlayer_widgets.emulator as emulator_package
from zenlayer_widgets.emulator import start_emulator

from .helpers import bearer_post, instance_id


def control(emulator, command: str, body: dict | None = None) -> httpx.Response:
    return httpx.post(f"{emulator.url}/_emulator/{command}", json=body or {})


def test_reset_restores_the_seed(emulator):
    web = instance_id(emulator, "web-hkg-01")
    assert bearer_post(emulator, "StopInstances", {"instanceIds": [web]}).status_code == 200
    assert control(emulator, "reset").status_code == 200
    assert emulator.backend.instances[web].status == "RUNNING"


def test_faults_and_latency_over_http(emulator):
    response = control(emulator, "faults", {"faults": ["DescribeZones:throttle:1"], "latencyMs": 1})
    assert response.json()["response"]["faults"] == ["DescribeZones:throttle:1"]
    assert bearer_post(emulator, "DescribeZones").status_code == 429
    assert control(emulator, "faults", {"faults": ["DescribeZones:boom:1"]}).status_code == 400
    assert control(emulator, "faults", {"faults": []}).status_code == 200
    assert bearer_post(emulator, "DescribeZones").status_code == 200


def test_advance_moves_the_clock(slow_emulator):
    web = instance_id(slow_emulator, "web-hkg-01")
    bearer_post(slow_emulator, "StopInstances", {"instanceIds": [web]})
    assert slow_emulator.backend.instances[web].status == "STOPPING"
    assert control(slow_emulator, "advance", {"seconds": 3600}).status_code == 200
    assert slow_emulator.backend.instances[web].status == "STOPPED"
    for bad in (-1, "10", True, None):
        assert control(slow_emulator, "advance", {"seconds": bad}).status_code == 400
    infinite = httpx.post(f"{slow_emulator.url}/_emulator/advance", content=b'{"seconds": Infinity}',
                          headers={"Content-Type": "application/json"})
    assert infinite.status_code == 400
    assert control(slow_emulator, "faults", {"latencyMs": -5}).status_code == 400
    assert control(slow_emulator, "nope").status_code == 404


def test_start_stop_and_context_manager():
    running = start_emulator()
    assert running.running and running.url == f"http://127.0.0.1:{running.port}"
    assert running.host_port == f"127.0.0.1:{running.port}"
    assert bearer_post(running, "DescribeZones").status_code == 200
    running.stop()
    running.stop()  # idempotent
    assert not running.running
    with pytest.raises(httpx.ConnectError):
        bearer_post(running, "DescribeZones")
    with start_emulator() as scoped:
        url = scoped.url
    with pytest.raises(httpx.ConnectError):
        httpx.post(url + "/api/v2/vm")


def test_port_in_use_raises(emulator):
    with pytest.raises(OSError):
        start_emulator(port=emulator.port)


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        start_emulator(seed="production")
    with pytest.raises(ValueError):
        start_emulator(faults=["CreateImage:explode:1"])
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            start_emulator(transition_seconds=bad)


def test_exports_are_honest():
    for name in emulator_package.__all__:
        assert hasattr(emulator_package, name), name
    assert {"start_emulator", "RunningEmulator", "DEMO_ACCESS_KEY_ID", "DEMO_ACCESS_KEY_PASSWORD", "DEMO_TOKEN"} <= set(emulator_package.__all__)


def test_fault_actions_are_the_dispatched_actions():
    from zenlayer_widgets.emulator.faults import ACTIONS as FAULT_ACTIONS
    from zenlayer_widgets.emulator.responses import ACTIONS

    assert tuple(ACTIONS) == FAULT_ACTIONS


def test_control_over_http_refuses_cross_site_requests(emulator):
    """A web page may POST text/plain or a form to 127.0.0.1 without a CORS preflight, or reach it
    under its own name by DNS rebinding: neither may reset or reconfigure the emulator."""
    web = instance_id(emulator, "web-hkg-01")
    assert bearer_post(emulator, "StopInstances", {"instanceIds": [web]}).status_code == 200
    url = f"{emulator.url}/_emulator/reset"
    plain = httpx.post(url, content=b"{}", headers={"Content-Type": "text/plain"})
    form = httpx.post(url, data={"faults": "x"})
    rebound = httpx.post(url, json={}, headers={"Host": f"attacker.example:{emulator.port}"})
    assert (plain.status_code, form.status_code, rebound.status_code) == (415, 415, 403)
    assert "loopback Host" in rebound.json()["message"]
    assert emulator.backend.instances[web].status in ("STOPPING", "STOPPED")  # nothing was reset
    assert httpx.post(url, json={}, headers={"Host": f"localhost:{emulator.port}"}).status_code == 200
    assert emulator.backend.instances[web].status == "RUNNING"
