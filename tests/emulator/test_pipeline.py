"""The emulator as a pure pipeline (no socket): steps in order, named errors, faults and latency
outside the backend, the in-process httpx transport, and one vocabulary for client and emulator."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path

import pytest

import zenlayer_widgets.rules as rules
from zenlayer_widgets.api import OutcomeUnknown, RateLimited, errors, vocabulary
from zenlayer_widgets.emulator import (
    DEMO_TOKEN,
    EmulatorError,
    InProcessEmulator,
    Request,
    exceptions,
    faults,
    responses,
)
from zenlayer_widgets.emulator.backend import EmulatorBackend

PACKAGE = Path(__file__).resolve().parents[2] / "zenlayer_widgets"


def api_request(action: str, body: dict | None = None, token: str = DEMO_TOKEN, **headers: str) -> Request:
    sent = {"authorization": f"Bearer {token}", "content-type": "application/json", "x-zc-action": action,
            "host": "127.0.0.1:1", **headers}
    return Request("POST", vocabulary.SERVICE_PATH, sent, json.dumps(body or {}).encode())


def control_request(command: str, body: bytes = b"{}", **headers: str) -> Request:
    sent = {"content-type": "application/json", "host": "127.0.0.1:8800", **headers}
    return Request("POST", f"/_emulator/{command}", sent, body)


@pytest.fixture
def mock_emulator(mock_emulator: InProcessEmulator) -> InProcessEmulator:
    """tests/conftest.py's in-process emulator; its transitions last an hour here: a STOPPING instance stays
    STOPPING however slowly the test's next line comes (no test in this file waits for one to end)."""
    mock_emulator.backend.transition_seconds = 3600
    return mock_emulator


def test_handle_turns_a_request_into_a_reply_without_a_socket(mock_emulator) -> None:
    reply = mock_emulator.pipeline.handle(api_request("DescribeZones"))
    body = json.loads(reply.body)
    assert reply.status == 200 and not reply.drop and reply.delay_seconds == 0
    assert body["requestId"].startswith("T") and len(body["response"]["zoneSet"]) == len(mock_emulator.backend.zones)


def test_named_errors_carry_their_status_and_wire_code(mock_emulator) -> None:
    with pytest.raises(exceptions.InstanceNotFound) as missing:
        mock_emulator.backend.stop_instances(["ins-nope"])
    assert (missing.value.status, missing.value.code) == (404, errors.INVALID_INSTANCE_NOT_FOUND)
    running = mock_emulator.backend.instance_named("web-hkg-01")
    with pytest.raises(exceptions.OperationDenied) as denied:
        mock_emulator.backend.start_instances([running.instance_id])
    assert (denied.value.status, denied.value.code) == (403, errors.OPERATION_DENIED_INSTANCE_NOT_STOPPED)
    reply = mock_emulator.pipeline.handle(api_request("StopInstances", {"instanceIds": ["ins-nope"]}))
    assert reply.status == 404 and json.loads(reply.body)["code"] == errors.INVALID_INSTANCE_NOT_FOUND
    assert issubclass(exceptions.Throttled, EmulatorError) and exceptions.Throttled("x").status == 429


def test_the_backend_raises_no_bare_http_statuses() -> None:
    """Every error the backend, params and auth raise is a named class, never EmulatorError(404, ...)."""
    for name in ("backend.py", "params.py", "auth.py", "responses.py"):
        tree = ast.parse((PACKAGE / "emulator" / name).read_text(encoding="utf-8"))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                 and n.func.id == "EmulatorError"]
        assert not calls, f"{name} builds an error from a status number (line {calls[0].lineno})"


def test_authentication_comes_before_faults_and_dispatch(mock_emulator) -> None:
    mock_emulator.set_faults(["StopInstances:throttle:1"])
    web = mock_emulator.backend.instance_named("web-hkg-01").instance_id
    refused = mock_emulator.pipeline.handle(api_request("StopInstances", {"instanceIds": [web]}, token="wrong"))
    assert refused.status == 401 and json.loads(refused.body)["code"] == errors.AUTH_FAILURE_TOKEN
    throttled = mock_emulator.pipeline.handle(api_request("StopInstances", {"instanceIds": [web]}))
    assert throttled.status == 429
    assert mock_emulator.backend.instances[web].status == "RUNNING"  # neither reached the backend


def test_a_lost_response_is_applied_then_dropped_and_latency_is_on_the_reply(mock_emulator) -> None:
    mock_emulator.set_faults(["StopInstances:lost_response:1"])
    mock_emulator.conditions.latency_ms = 40
    web = mock_emulator.backend.instance_named("web-hkg-01").instance_id
    reply = mock_emulator.pipeline.handle(api_request("StopInstances", {"instanceIds": [web]}))
    assert reply.drop and reply.delay_seconds == pytest.approx(0.04)
    assert mock_emulator.backend.instances[web].status == "STOPPING"


def test_faults_and_latency_are_not_the_backends() -> None:
    backend = EmulatorBackend()
    assert not any(hasattr(backend, name) for name in ("set_faults", "draw_fault", "latency_ms", "faults"))


def test_the_in_process_transport_serves_sync_and_async_clients(mock_emulator) -> None:
    with mock_emulator.client(max_throttle_retries=0) as client:
        assert len(client.describe_zones()) == len(mock_emulator.backend.zones)
        mock_emulator.set_faults(["DescribeZones:throttle:1"])
        with pytest.raises(RateLimited):
            client.describe_zones()
        mock_emulator.set_faults(["StopInstances:lost_response:1"])
        web = mock_emulator.backend.instance_named("web-hkg-01").instance_id
        with pytest.raises(OutcomeUnknown):  # a dropped connection, as over a socket
            client.stop_instances([web])
        assert mock_emulator.backend.instances[web].status == "STOPPING"
        mock_emulator.set_faults([])
        mock_emulator.conditions.latency_ms = 100
        started = time.perf_counter()
        client.describe_zones()
        assert time.perf_counter() - started >= 0.1


async def test_the_in_process_transport_overlaps_gathered_async_requests(mock_emulator) -> None:
    import asyncio

    mock_emulator.conditions.latency_ms = 500  # the latency is real time (no clock to move): a second of slack for a loaded machine
    async with mock_emulator.async_client() as client:
        started = time.perf_counter()
        await asyncio.gather(*(client.describe_zones() for _ in range(5)))
        elapsed = time.perf_counter() - started
    assert 0.5 <= elapsed < 1.5, f"5 requests with 500 ms latency took {elapsed:.2f} s: they did not overlap"


def test_wrong_credentials_are_refused_in_process_too(mock_emulator) -> None:
    with mock_emulator.client(mock_emulator.credentials("not-the-password")) as client:
        with pytest.raises(errors.AuthError):
            client.describe_zones()


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        (control_request("reset", **{"content-type": "text/plain"}), 415),
        (control_request("reset", **{"content-type": "application/x-www-form-urlencoded"}), 415),
        (control_request("reset", **{"host": "evil.example"}), 403),
        (control_request("reset", **{"host": "127.0.0.1.evil.example:8800"}), 403),
        (Request("POST", "/_emulator/reset", {"content-type": "application/json", "host": "localhost:8800"}, b"{}",
                 remote_ip="203.0.113.9"), 403),
    ],
    ids=["text-plain", "form", "foreign-host", "rebinding-host", "foreign-peer"],
)
def test_control_endpoints_refuse_what_another_site_could_send(mock_emulator, request_: Request, status: int) -> None:
    web = mock_emulator.backend.instance_named("web-hkg-01").instance_id
    mock_emulator.backend.stop_instances([web])
    reply = mock_emulator.pipeline.handle(request_)
    assert reply.status == status
    assert mock_emulator.backend.instances[web].status == "STOPPING"  # not reset


@pytest.mark.parametrize("host", ["127.0.0.1:8800", "localhost", "LOCALHOST:1", "[::1]:8800", "emulator-3.localhost", "127.0.0.2"])
def test_control_endpoints_answer_json_for_a_loopback_host(mock_emulator, host: str) -> None:
    web = mock_emulator.backend.instance_named("web-hkg-01").instance_id
    mock_emulator.backend.stop_instances([web])
    reply = mock_emulator.pipeline.handle(control_request("reset", **{"host": host, "content-type": "application/json; charset=utf-8"}))
    assert reply.status == 200 and mock_emulator.backend.instances[web].status == "RUNNING"


def test_one_vocabulary_for_client_rules_and_emulator() -> None:
    assert set(responses.ACTIONS) == set(vocabulary.ACTIONS) and faults.ACTIONS is vocabulary.ACTIONS
    assert responses.VERSIONS is vocabulary.API_VERSIONS
    for state in ("RUNNING", "STOPPED", "STOPPING", "BOOTING", "IMAGING", "CREATING", "AVAILABLE", "UNAVAILABLE"):
        assert getattr(rules, state) is getattr(vocabulary, state) == state
    from zenlayer_widgets.api import _flows, _wire
    from zenlayer_widgets.emulator import params

    assert _flows.MAX_PAGE_SIZE == params.MAX_PAGE_SIZE == vocabulary.MAX_PAGE_SIZE
    assert _wire.SERVICE_PATH == vocabulary.SERVICE_PATH


def test_the_vocabulary_is_written_once_in_api_core_and_emulator() -> None:
    """No module of api/, core/, emulator/ or rules.py spells an action, a version or a state name itself."""
    words = set(vocabulary.ACTIONS) | set(vocabulary.API_VERSIONS) | {vocabulary.SERVICE_PATH} | {
        vocabulary.RUNNING, vocabulary.STOPPED, vocabulary.STOPPING, vocabulary.BOOTING, vocabulary.IMAGING,
        vocabulary.CREATING, vocabulary.AVAILABLE, vocabulary.UNAVAILABLE, vocabulary.CUSTOM_IMAGE, vocabulary.PUBLIC_IMAGE}
    paths = [p for layer in ("api", "core", "emulator") for p in (PACKAGE / layer).rglob("*.py")] + [PACKAGE / "rules.py"]
    found = []
    for path in paths:
        if path.name == "vocabulary.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
        found += [f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and node.value in words and id(node) not in docstrings]
    assert not found, found
