"""Faults on the launch / restore / recycle-bin actions, the ``boot_failure`` fault, the account's rate
limit (``--rate-limit``) and the saved state of launched instances."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from zenlayer_widgets.api import RateLimited, errors
from zenlayer_widgets.emulator import EmulatorBackend, parse_fault, start_emulator
from zenlayer_widgets.emulator.ratelimit import TokenBucket
from zenlayer_widgets.emulator.records import LaunchSpec

from .helpers import bearer_post, call, instance_id, sdk, sdk_error, snapshot
from .test_cli import start_cli
from .test_sdk_launch import launch, status


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


def test_boot_failure_fault_through_the_cli(tmp_path):
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


# ---------------------------------------------------------------------------------- the rate limit
def test_token_bucket_allows_a_second_of_burst_then_refills_on_the_clock():
    bucket = TokenBucket(20)
    assert [bucket.take(100.0) for _ in range(21)] == [True] * 20 + [False]
    assert bucket.take(100.04) is False  # 0.8 of a token
    assert bucket.take(100.06) is True
    assert [bucket.take(200.0) for _ in range(21)].count(True) == 20  # never more than a second's worth


def test_rate_limit_answers_429_request_limit_exceeded_and_applies_nothing():
    # one request per 1,000 s: the second request is refused however fast or slow the machine is
    with start_emulator(rate_limit=0.001) as emulator:
        client, models = sdk(emulator)
        assert call(client, models, "DescribeZones").zoneSet
        before = snapshot(emulator)
        error = sdk_error(lambda: call(client, models, "StopInstances", instanceIds=[instance_id(emulator, "web-hkg-01")]))
        assert error.code == errors.REQUEST_LIMIT_EXCEEDED
        response = bearer_post(emulator, "DescribeZones")
        assert (response.status_code, response.json()["code"]) == (429, errors.REQUEST_LIMIT_EXCEEDED)
        assert snapshot(emulator) == before
        emulator.backend.advance(1000)  # the bucket refills on the emulator's clock
        assert call(client, models, "DescribeZones").zoneSet


def test_rate_limit_through_our_client_in_process(mock_emulator):
    mock_emulator.conditions.rate_limit = 0.001
    client = mock_emulator.client(max_throttle_retries=0)
    client.describe_zones()
    with pytest.raises(RateLimited):
        client.describe_zones()
    mock_emulator.backend.advance(1000)
    assert client.describe_zones()


def test_rate_limit_set_and_removed_through_the_control_api(emulator):
    answer = httpx.post(emulator.url + "/_emulator/faults", json={"rateLimit": 0.001}).json()["response"]
    assert answer["rateLimit"] == 0.001
    assert bearer_post(emulator, "DescribeZones").status_code == 200
    assert bearer_post(emulator, "DescribeZones").status_code == 429
    assert httpx.post(emulator.url + "/_emulator/faults", json={"rateLimit": 0}).status_code == 400
    httpx.post(emulator.url + "/_emulator/faults", json={"rateLimit": None})
    assert [bearer_post(emulator, "DescribeZones").status_code for _ in range(5)] == [200] * 5


def test_rate_limit_cli_flag():
    process, url, banner = start_cli("--rate-limit", "0.001")
    try:
        assert "requests/s" in banner
        headers = {"Authorization": "Bearer demo-emulator-token-not-a-secret", "X-ZC-Action": "DescribeZones"}
        codes = [httpx.post(url + "/api/v2/vm", json={}, headers=headers).status_code for _ in range(2)]
        assert codes == [200, 429]
    finally:
        process.terminate()
        assert process.wait(10) == 0
    refused = subprocess.run([sys.executable, "-m", "zenlayer_widgets.emulator", "--rate-limit", "0"], capture_output=True, text=True)
    assert refused.returncode == 2 and "must be a finite number > 0" in refused.stderr


def test_unauthenticated_requests_do_not_spend_the_accounts_tokens():
    with start_emulator(rate_limit=0.001) as emulator:
        assert bearer_post(emulator, "DescribeZones", token="wrong-token").status_code == 401
        assert bearer_post(emulator, "DescribeZones").status_code == 200


# ------------------------------------------------------------------------------ the saved state
def test_saved_state_keeps_launches_recycle_bin_and_boot_failure():
    first = EmulatorBackend(transition_seconds=3600)
    image = next(i.image_id for i in first.images.values() if i.image_name == "Debian 12 x86 64-bit")
    first.fail_next_boot()
    _, (failing,) = first.create_instances(LaunchSpec("FRA-A", "z2a.c1m2", image, "will-fail", tags=[("intent", "a")]))
    _, (booting,) = first.create_instances(LaunchSpec("FRA-A", "z2a.c1m2", image, "will-boot", tags=[("intent", "b")]))
    web = first.instance_named("web-hkg-01").instance_id
    first.terminate_instance(web)
    second = EmulatorBackend(transition_seconds=3600)
    second.import_state(first.export_state())
    assert second.instances[booting].tags == [("intent", "b")] and second.instances[booting].image_id == image
    assert second.instances[web].status == "RECYCLING"
    second.advance(7201)
    assert (second.instances[failing].status, second.instances[booting].status) == ("CREATE_FAILED", "RUNNING")
    assert second.instances[web].status == "RECYCLE"
    second.release_instances([web])
    third = EmulatorBackend(transition_seconds=3600)
    third.import_state(second.export_state())
    assert web not in third.instances and third.instances[failing].status == "CREATE_FAILED"
    _, (again,) = third.create_instances(LaunchSpec("FRA-A", "z2a.c1m2", image, "after-import"))
    assert again not in first.instances and again not in second.instances
