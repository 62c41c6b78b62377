"""Authentication: signed requests (both signature forms), bearer tokens, and every way to fail."""

from __future__ import annotations

import time
import types

import pytest
from zenlayercloud.common import abstract_client
from zenlayercloud.common.credential import Credential

from zenlayer_widgets.api import errors
from zenlayer_widgets.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_PASSWORD, DEMO_TOKEN, start_emulator

from .helpers import bearer_post, call, sdk, sdk_error, signed_post, snapshot, token_sdk


def test_demo_credentials_are_the_defaults(emulator):
    assert (emulator.access_key_id, emulator.access_key_password, emulator.token) == (
        DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_PASSWORD, DEMO_TOKEN)
    assert DEMO_ACCESS_KEY_PASSWORD not in repr(emulator) and DEMO_TOKEN not in repr(emulator)


def test_sdk_with_wrong_secret_is_refused(emulator):
    client, models = sdk(emulator, credential=Credential(emulator.access_key_id, "not-the-password"))
    error = sdk_error(lambda: call(client, models, "DescribeZones"))
    assert error.code == errors.AUTH_FAILURE_SIGNATURE
    assert "not-the-password" not in error.message


def test_sdk_with_unknown_key_is_refused(emulator):
    client, models = sdk(emulator, credential=Credential("SOMEONE-ELSE", emulator.access_key_password))
    assert sdk_error(lambda: call(client, models, "DescribeZones")).code == errors.AUTH_FAILURE_ACCESS_KEY


@pytest.mark.parametrize("skew", [-301, 400])
def test_sdk_with_a_timestamp_outside_the_window_is_refused(emulator, monkeypatch, skew):
    real_time = time.time
    skewed = types.SimpleNamespace(time=lambda: real_time() + skew, sleep=time.sleep)
    monkeypatch.setattr(abstract_client, "time", skewed)
    client, models = sdk(emulator)
    assert sdk_error(lambda: call(client, models, "DescribeZones")).code == errors.AUTH_FAILURE_EXPIRED


def test_timestamp_window_is_configurable_and_inclusive():
    with start_emulator(timestamp_window_seconds=30) as emulator:
        assert signed_post(emulator, "DescribeZones", timestamp=int(time.time()) - 25).status_code == 200
        response = signed_post(emulator, "DescribeZones", timestamp=int(time.time()) - 60)
        assert (response.status_code, response.json()["code"]) == (401, errors.AUTH_FAILURE_EXPIRED)


@pytest.mark.parametrize("version", ["2023-03-13", "2026-04-01"])
def test_sdk_with_the_bearer_token(emulator, version):
    client, models = token_sdk(emulator, emulator.token, version)
    assert len(call(client, models, "DescribeZones").zoneSet) >= 5


def test_sdk_with_a_wrong_token_is_refused(emulator):
    client, models = token_sdk(emulator, "wrong-token")
    assert sdk_error(lambda: call(client, models, "DescribeZones")).code == errors.AUTH_FAILURE_TOKEN


@pytest.mark.parametrize("value", ["Bearer", "Bearer  wrong", "bearer wrong", "Bearer " + "x" * 500])
def test_empty_or_wrong_bearer_tokens_are_refused(emulator, value):
    response = bearer_post(emulator, "DescribeZones", Authorization=value)
    assert (response.status_code, response.json()["code"]) == (401, errors.AUTH_FAILURE_TOKEN)


def test_bearer_accepted_without_version_or_timestamp(emulator):
    response = bearer_post(emulator, "DescribeZones")
    assert response.status_code == 200 and "networkLineType" in response.json()["response"]["zoneSet"][0]


def test_no_token_configured_refuses_every_bearer():
    with start_emulator(token=None) as emulator:
        response = bearer_post(emulator, "DescribeZones", token="anything")
        assert response.json()["code"] == errors.AUTH_FAILURE_TOKEN


def test_both_signature_forms_are_accepted(emulator):
    for normalize in (True, False):
        assert signed_post(emulator, "DescribeZones", normalize=normalize).status_code == 200


def test_signature_covers_the_host_exactly_as_received(emulator):
    """An upper-case Host verifies in either form; signed for one Host and sent with another: refused."""
    raw = b'{"zoneIds": ["HKG-A"]}'
    upper = "EMULATOR.LOCAL:80"
    verbatim = signed_post(emulator, "DescribeZones", raw, host=upper, normalize=False)
    normalized = signed_post(emulator, "DescribeZones", raw, host=upper, normalize=True)
    assert verbatim.status_code == normalized.status_code == 200
    import httpx

    from zenlayer_widgets.api import signing

    stamp = str(int(time.time()))
    sig = signing.signature(emulator.access_key_password, stamp, "application/json", "signed-host:1", raw)
    response = httpx.post(emulator.url + "/api/v2/vm", content=raw, headers={
        "Host": "other-host:1", "Content-Type": "application/json", "X-ZC-Action": "DescribeZones",
        "X-ZC-Timestamp": stamp, "X-ZC-Signature-Method": "ZC2-HMAC-SHA256",
        "Authorization": signing.authorization_header(emulator.access_key_id, sig)})
    assert response.json()["code"] == errors.AUTH_FAILURE_SIGNATURE


def test_signature_covers_the_raw_body(emulator):
    """The same JSON re-serialised differently is a different body: the signature no longer matches."""
    import httpx

    from zenlayer_widgets.api import signing

    stamp = str(int(time.time()))
    signed_body, sent_body = b'{"zoneIds": ["HKG-A"]}', b'{"zoneIds":["HKG-A"]}'
    sig = signing.signature(emulator.access_key_password, stamp, "application/json", emulator.host_port, signed_body)
    response = httpx.post(emulator.url + "/api/v2/vm", content=sent_body, headers={
        "Content-Type": "application/json", "X-ZC-Action": "DescribeZones", "X-ZC-Timestamp": stamp,
        "X-ZC-Signature-Method": "ZC2-HMAC-SHA256", "Authorization": signing.authorization_header(emulator.access_key_id, sig)})
    assert response.json()["code"] == errors.AUTH_FAILURE_SIGNATURE


@pytest.mark.parametrize("header", ["Authorization", "X-ZC-Timestamp", "X-ZC-Signature-Method", "Content-Type"])
def test_missing_header_is_refused(emulator, header):
    response = signed_post(emulator, "DescribeZones", drop=(header,))
    assert (response.status_code, response.json()["code"]) == (401, errors.AUTH_FAILURE_MISSING)


@pytest.mark.parametrize("headers", [
    {"Authorization": "ZC2-HMAC-SHA256 garbage"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"X-ZC-Timestamp": "yesterday"},
    {"X-ZC-Timestamp": "9" * 40},
    {"X-ZC-Signature-Method": "HMAC-SHA1"},
])
def test_malformed_auth_headers_are_refused(emulator, headers):
    response = signed_post(emulator, "DescribeZones", extra=headers)
    assert response.status_code == 401
    assert response.json()["code"] in (errors.AUTH_FAILURE_MISSING, errors.AUTH_FAILURE_SIGNATURE)


def test_header_names_are_case_insensitive(emulator):
    response = signed_post(emulator, None, extra={"x-zc-action": "DescribeZones"}, version=None)
    assert response.status_code == 200
    response = signed_post(emulator, None, extra={"X-ZC-ACTION": "DescribeZones", "x-zc-version": "2023-03-13"}, version=None)
    assert response.status_code == 200 and "networkLineType" not in response.json()["response"]["zoneSet"][0]


def test_auth_failures_change_nothing(emulator):
    before = snapshot(emulator)
    target = next(i.instance_id for i in emulator.backend.instances.values() if i.status == "RUNNING")
    for response in (
        signed_post(emulator, "StopInstances", {"instanceIds": [target]}, secret="wrong"),
        signed_post(emulator, "StopInstances", {"instanceIds": [target]}, key_id="unknown"),
        signed_post(emulator, "StopInstances", {"instanceIds": [target]}, timestamp=1),
        bearer_post(emulator, "StopInstances", {"instanceIds": [target]}, token="wrong"),
    ):
        assert response.status_code == 401
        body = response.json()
        assert set(body) == {"requestId", "code", "message"} and body["requestId"].startswith("T")
    assert snapshot(emulator) == before
