"""Injected faults: throttle, error, lost_response, late, latency; parsing and determinism; duplicate names."""

from __future__ import annotations

import concurrent.futures
import socket
import time

import httpx
import pytest

from zenlayer_widgets.api import errors
from zenlayer_widgets.emulator import FaultInjector, FaultRule, parse_fault, start_emulator

from .helpers import bearer_post, call, instance_id, sdk, sdk_error, snapshot
from .test_cli import start_cli
from .test_sdk_launch import launch, status


def test_parse_fault():
    assert parse_fault("CreateImage:lost_response:0.5") == FaultRule("CreateImage", "lost_response", 0.5)
    assert parse_fault(" * : throttle : 1 ") == FaultRule("*", "throttle", 1.0)
    for bad in ("CreateImage:throttle", "Nope:throttle:1", "CreateImage:explode:1", "CreateImage:error:2", "CreateImage:error:x"):
        with pytest.raises(ValueError):
            parse_fault(bad)


def test_draws_are_deterministic_for_a_seed():
    first = FaultInjector(["*:throttle:0.5"], seed="s")
    second = FaultInjector(["*:throttle:0.5"], seed="s")
    draws = [first.draw("DescribeZones") for _ in range(200)]
    assert draws == [second.draw("DescribeZones") for _ in range(200)]
    assert 60 < draws.count("throttle") < 140
    assert FaultInjector(["CreateImage:error:1"]).draw("DescribeZones") is None


def test_throttle_refuses_and_changes_nothing(emulator):
    emulator.set_faults(["StopInstances:throttle:1"])
    client, models = sdk(emulator)
    before = snapshot(emulator)
    error = sdk_error(lambda: call(client, models, "StopInstances", instanceIds=[instance_id(emulator, "web-hkg-01")]))
    assert error.code == errors.REQUEST_LIMIT_EXCEEDED
    assert snapshot(emulator) == before
    assert call(client, models, "DescribeZones").zoneSet  # other actions unaffected
    response = bearer_post(emulator, "StopInstances", {"instanceIds": [instance_id(emulator, "web-hkg-01")]})
    assert (response.status_code, response.json()["code"]) == (429, errors.REQUEST_LIMIT_EXCEEDED)


def test_sdk_retries_through_occasional_throttling():
    with start_emulator(faults=["*:throttle:0.5"]) as emulator:
        client, models = sdk(emulator, retries=8)
        for _ in range(10):
            assert call(client, models, "DescribeImageQuota", zoneIds=["HKG-A"]).images[0].count == 1


def test_error_is_500_and_changes_nothing(emulator):
    emulator.set_faults(["CreateImage:error:1"])
    client, models = sdk(emulator)
    before = snapshot(emulator)
    error = sdk_error(lambda: call(client, models, "CreateImage", instanceId=instance_id(emulator, "build-hkg-01"), imageName="x"))
    assert error.code == errors.INTERNAL_SERVER_ERROR
    assert snapshot(emulator) == before
    response = bearer_post(emulator, "CreateImage", {"instanceId": instance_id(emulator, "build-hkg-01"), "imageName": "x"})
    assert response.status_code == 500 and response.json()["code"] == errors.INTERNAL_SERVER_ERROR


def _raw_request(emulator, action: str, body: bytes) -> bytes:
    """Send one request on a raw socket and return every byte the server sent before closing."""
    with socket.create_connection((emulator.host, emulator.port), timeout=5) as sock:
        head = (f"POST /api/v2/vm HTTP/1.1\r\nHost: {emulator.host_port}\r\nAuthorization: Bearer {emulator.token}\r\n"
                f"X-ZC-Action: {action}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        sock.sendall(head.encode() + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def test_lost_response_applies_then_closes_without_a_byte(emulator):
    emulator.backend.transition_seconds = 3600  # STOPPING however late the check below comes
    emulator.set_faults(["StopInstances:lost_response:1"])
    web = instance_id(emulator, "web-hkg-01")
    received = _raw_request(emulator, "StopInstances", f'{{"instanceIds": ["{web}"]}}'.encode())
    assert received == b""
    assert emulator.backend.instances[web].status == "STOPPING"


def test_lost_response_with_httpx_and_the_sdk(emulator):
    emulator.backend.transition_seconds = 3600  # CREATING however late the check below comes
    emulator.set_faults(["CreateImage:lost_response:1"])
    build = instance_id(emulator, "build-hkg-01")
    with pytest.raises(httpx.RemoteProtocolError):
        bearer_post(emulator, "CreateImage", {"instanceId": build, "imageName": "lost-but-made"})
    made = [i for i in emulator.backend.images.values() if i.image_name == "lost-but-made"]
    assert len(made) == 1 and made[0].status == "CREATING"
    client, models = sdk(emulator)
    error = sdk_error(lambda: call(client, models, "CreateImage", instanceId=instance_id(emulator, "db-hkg-01"), imageName="sdk-lost"))
    assert error.code == "NETWORK_ERROR"
    assert any(i.image_name == "sdk-lost" for i in emulator.backend.images.values())


def test_lost_response_of_a_refused_request_is_lost_too(emulator):
    emulator.set_faults(["*:lost_response:1"])
    assert _raw_request(emulator, "StartInstances", b'{"instanceIds": ["999"]}') == b""


def test_keep_alive_connection_survives_other_requests_faults(emulator):
    emulator.set_faults(["CreateImage:lost_response:1"])
    with httpx.Client() as client:
        for _ in range(3):
            assert bearer_post(emulator, "DescribeZones", client=client).status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            bearer_post(emulator, "CreateImage", {"instanceId": "999", "imageName": "x"}, client=client)
        assert bearer_post(emulator, "DescribeZones", client=client).status_code == 200


def test_latency_is_added_and_concurrent_requests_overlap():
    with start_emulator(latency_ms=300) as emulator:
        started = time.perf_counter()
        assert bearer_post(emulator, "DescribeZones").status_code == 200
        assert time.perf_counter() - started >= 0.3
        started = time.perf_counter()
        # one client for the eight (httpx.Client builds its TLS settings when made: eight of those would spend
        # a loaded machine's CPU inside the measurement); its pool opens a connection per concurrent request
        with httpx.Client() as client, concurrent.futures.ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: bearer_post(emulator, "DescribeZones", client=client).status_code, range(8)))
        elapsed = time.perf_counter() - started
        assert statuses == [200] * 8
        assert elapsed < 8 * 0.3 / 2, f"8 requests with 300 ms latency took {elapsed:.2f} s: they did not overlap"


def test_faults_given_at_start_and_reset(emulator):
    with start_emulator(faults=["DescribeZones:throttle:1"]) as faulty:
        assert bearer_post(faulty, "DescribeZones").status_code == 429
        faulty.set_faults([])
        assert bearer_post(faulty, "DescribeZones").status_code == 200
        faulty.reset()  # the fleet and the faults given at start (as POST /_emulator/reset)
        assert bearer_post(faulty, "DescribeZones").status_code == 429


def test_late_drops_the_connection_now_and_applies_the_request_later():
    # the late request lands on a timer (real time, no clock to move): a second, so a slow POST is not "late" too
    with start_emulator(transition_seconds=60, late_seconds=1.0, faults=["CreateImage:late:1"]) as emulator:
        build = instance_id(emulator, "build-hkg-01")
        started = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):
            bearer_post(emulator, "CreateImage", {"instanceId": build, "imageName": "on-its-way"})
        assert time.monotonic() - started < 1.0
        assert not [i for i in emulator.backend.images.values() if i.image_name == "on-its-way"]  # not yet
        assert emulator.backend.instances[build].status == "STOPPED"
        emulator.backend.land_late_requests()
        assert time.monotonic() - started >= 1.0
        [landed] = [i for i in emulator.backend.images.values() if i.image_name == "on-its-way"]
        assert landed.status == "CREATING" and emulator.backend.instances[build].status == "IMAGING"


def test_a_late_request_refused_when_it_lands_changes_nothing():
    with start_emulator(late_seconds=0.05, faults=["StartInstances:late:1"]) as emulator:
        before = snapshot(emulator)
        with pytest.raises(httpx.RemoteProtocolError):
            bearer_post(emulator, "StartInstances", {"instanceIds": ["no-such-instance"]})
        emulator.backend.land_late_requests()
        assert snapshot(emulator) == before


@pytest.mark.parametrize("allowed", [False, True])
def test_duplicate_names_are_refused_unless_allowed(allowed):
    with start_emulator(transition_seconds=0, allow_duplicate_names=allowed) as emulator:
        for source in ("build-hkg-01", "db-hkg-01"):
            response = bearer_post(emulator, "CreateImage", {"instanceId": instance_id(emulator, source), "imageName": "twin"})
            status = response.status_code
        assert status == (200 if allowed else 400)
        assert len([i for i in emulator.backend.images.values() if i.image_name == "twin"]) == (2 if allowed else 1)


# ------------------------------------------------ faults on launching, restoring and the recycle bin
def tagged(emulator, key: str, value: str) -> list:
    return [i for i in emulator.backend.instances.values() if (key, value) in i.tags]


def test_boot_failure_parses_for_create_instances_only():
    assert parse_fault("CreateInstances:boot_failure:1").kind == "boot_failure"
    for bad in ("CreateImage:boot_failure:1", "*:boot_failure:1", "CreateInstances:unavailable:1"):
        with pytest.raises(ValueError, match="only"):
            parse_fault(bad)


def test_boot_failure_launch_ends_create_failed_and_can_be_cleaned_up(emulator):
    client, models = sdk(emulator)
    emulator.backend.transition_seconds = 3600
    emulator.set_faults(["CreateInstances:boot_failure:1"])
    (failed,) = launch(emulator, client, models, tags={"intent": "boot-1"}).instanceIdSet
    emulator.set_faults([])
    (booted,) = launch(emulator, client, models, tags={"intent": "boot-2"}).instanceIdSet
    emulator.backend.advance(3600)
    assert status(client, models, failed) == status(client, models, booted) == "DEPLOYING"
    emulator.backend.advance(3600)
    assert status(client, models, failed) == "CREATE_FAILED"  # never RUNNING, however long one waits
    assert status(client, models, booted) == "RUNNING"
    emulator.backend.advance(36000)
    assert status(client, models, failed) == "CREATE_FAILED"
    call(client, models, "TerminateInstance", instanceId=failed)
    call(client, models, "ReleaseInstances", instanceIds=[failed])
    assert call(client, models, "DescribeInstances", instanceIds=[failed]).totalCount == 0


def test_boot_failure_fault_through_the_cli():
    process, url, _ = start_cli("--fault", "CreateInstances:boot_failure:1", "--transition-seconds", "0")
    try:
        body = {"zoneId": "HKG-A", "instanceType": "z2a.c1m2", "instanceChargeType": "POSTPAID", "keyId": "key-1",
                "imageId": httpx.post(url + "/api/v2/vm", json={"zoneId": "HKG-A", "imageName": "Debian 12 x86 64-bit"},
                                      headers={"Authorization": "Bearer demo-emulator-token-not-a-secret",
                                               "X-ZC-Action": "DescribeImages"}).json()["response"]["dataSet"][0]["imageId"]}
        headers = {"Authorization": "Bearer demo-emulator-token-not-a-secret", "X-ZC-Action": "CreateInstances"}
        (iid,) = httpx.post(url + "/api/v2/vm", json=body, headers=headers).json()["response"]["instanceIdSet"]
        headers["X-ZC-Action"] = "DescribeInstancesStatus"
        answer = httpx.post(url + "/api/v2/vm", json={"instanceIds": [iid]}, headers=headers).json()
        assert answer["response"]["dataSet"][0]["instanceStatus"] == "CREATE_FAILED"
    finally:
        process.terminate()
        assert process.wait(10) == 0


@pytest.mark.parametrize("action", ["CreateInstances", "ResetInstance", "TerminateInstance", "ReleaseInstances"])
@pytest.mark.parametrize("kind", ["throttle", "error"])
def test_throttle_and_error_refuse_the_new_actions_and_change_nothing(emulator, action, kind):
    client, models = sdk(emulator)
    emulator.set_faults([f"{action}:{kind}:1"])
    before = snapshot(emulator)
    requests = {
        "CreateInstances": lambda: launch(emulator, client, models),
        "ResetInstance": lambda: call(client, models, "ResetInstance", instanceId=instance_id(emulator, "build-hkg-01"), keyId="k"),
        "TerminateInstance": lambda: call(client, models, "TerminateInstance", instanceId=instance_id(emulator, "web-hkg-01")),
        "ReleaseInstances": lambda: call(client, models, "ReleaseInstances", instanceIds=[instance_id(emulator, "old-nyc-01")]),
    }
    error = sdk_error(requests[action])
    assert error.code == (errors.REQUEST_LIMIT_EXCEEDED if kind == "throttle" else errors.INTERNAL_SERVER_ERROR)
    assert snapshot(emulator) == before


def test_a_lost_create_instances_answer_still_launched_the_instance(emulator):
    client, models = sdk(emulator)
    emulator.set_faults(["CreateInstances:lost_response:1"])
    error = sdk_error(lambda: launch(emulator, client, models, tags={"intent": "lost-1"}))
    assert error.code == "NETWORK_ERROR"
    emulator.set_faults([])
    (made,) = tagged(emulator, "intent", "lost-1")  # found by its tag: exactly one, paid for
    found = call(client, models, "DescribeInstances", tagKeys=["intent"]).dataSet
    assert [i.instanceId for i in found] == [made.instance_id]


def test_a_late_create_instances_lands_after_the_client_gave_up():
    with start_emulator(transition_seconds=3600, late_seconds=0.5, faults=["CreateInstances:late:1"]) as emulator:
        client, models = sdk(emulator)
        assert sdk_error(lambda: launch(emulator, client, models, tags={"intent": "late-1"})).code == "NETWORK_ERROR"
        emulator.backend.land_late_requests()
        (landed,) = tagged(emulator, "intent", "late-1")
        assert landed.status == "PENDING"


def test_lost_terminate_and_release_answers_were_applied(emulator):
    client, models = sdk(emulator)
    web = instance_id(emulator, "web-hkg-01")
    emulator.set_faults(["TerminateInstance:lost_response:1", "ReleaseInstances:lost_response:1"])
    sdk_error(lambda: call(client, models, "TerminateInstance", instanceId=web))
    assert emulator.backend.instances[web].status in ("RECYCLING", "RECYCLE")
    sdk_error(lambda: call(client, models, "ReleaseInstances", instanceIds=[web]))
    assert web not in emulator.backend.instances
