"""Hostile and malformed bodies: always a 4xx with the flat error body, state unchanged, server still serving."""

from __future__ import annotations

import json
import re
import socket

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zenlayer_widgets.api import errors
from zenlayer_widgets.emulator import MAX_BODY_BYTES, start_emulator
from zenlayer_widgets.emulator.faults import ACTIONS

from .helpers import bearer_post, signed_post, snapshot


@pytest.fixture(scope="module")
def shared():
    """One emulator for the whole module: every request here must leave it unchanged anyway."""
    with start_emulator(transition_seconds=3600) as running:
        yield running


def assert_refused(response: httpx.Response, code: str | None = None, status: int = 400) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"requestId", "code", "message"}
    if code is not None:
        assert body["code"] == code, body


@pytest.mark.parametrize("body, code", [
    (b"\xff\xfe\xfd", errors.INVALID_REQUEST_BODY),
    (b'{"zoneId": "\xc3\x28"}', errors.INVALID_REQUEST_BODY),
    (b"{not json", errors.INVALID_REQUEST_BODY),
    (b"[]", errors.INVALID_REQUEST_BODY),
    (b'"a string"', errors.INVALID_REQUEST_BODY),
    (b"null", errors.INVALID_REQUEST_BODY),
    (b"[" * 100_000 + b"]" * 100_000, errors.INVALID_REQUEST_BODY),
    (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, errors.INVALID_REQUEST_BODY),
    (b'{"pageSize": NaN}', errors.INVALID_PARAMETER),
    (b'{"pageSize": 1e999}', errors.INVALID_PARAMETER),
])
def test_malformed_bodies(shared, body, code):
    before = snapshot(shared)
    assert_refused(bearer_post(shared, "DescribeInstances", body), code)
    assert snapshot(shared) == before


@pytest.mark.parametrize("action, body, code", [
    ("DescribeInstances", {"pageSize": "20"}, errors.INVALID_PARAMETER),
    ("DescribeInstances", {"pageSize": 20.5}, errors.INVALID_PARAMETER),
    ("DescribeInstances", {"pageSize": True}, errors.INVALID_PARAMETER),
    ("DescribeInstances", {"pageSize": 1001}, errors.INVALID_PARAMETER),
    ("DescribeInstances", {"pageSize": 0}, errors.INVALID_PARAMETER),
    ("DescribeInstances", {"pageNum": 0}, errors.INVALID_PARAMETER),
    ("DescribeInstances", {"pageNum": 10**100}, None),  # huge page numbers are simply empty pages
    ("DescribeInstances", {"instanceIds": "one-id"}, errors.INVALID_PARAMETER),
    ("DescribeInstances", {"instanceIds": [1, 2]}, errors.INVALID_PARAMETER),
    ("DescribeInstances", {"instanceIds": ["x"] * 101}, errors.INVALID_PARAMETER),
    ("DescribeInstances", {"instanceIds": ["x"] * 100_000}, errors.INVALID_PARAMETER),
    ("DescribeInstances", {"tags": [{"key": 1}]}, errors.INVALID_PARAMETER),
    ("DescribeInstances", {"zoneId": ["HKG-A"]}, errors.INVALID_PARAMETER),
    ("DescribeInstances", {"instanceName": {"$ne": ""}}, errors.INVALID_PARAMETER),
    ("StopInstances", {}, errors.MISSING_PARAMETER),
    ("StopInstances", {"instanceIds": []}, errors.MISSING_PARAMETER),
    ("StopInstances", {"instanceIds": None}, errors.MISSING_PARAMETER),
    ("StopInstances", {"instanceIds": ["x"], "forceShutdown": "yes"}, errors.INVALID_PARAMETER),
    ("StartInstances", {"instanceIds": [["nested"]]}, errors.INVALID_PARAMETER),
    ("DescribeImages", {}, errors.MISSING_PARAMETER),
    ("DescribeImages", {"zoneId": ""}, errors.MISSING_PARAMETER),
    ("DescribeImages", {"zoneId": 7}, errors.INVALID_PARAMETER),
    ("DescribeImageQuota", {"zoneIds": "HKG-A"}, errors.INVALID_PARAMETER),
    ("CreateImage", {"imageName": "x"}, errors.MISSING_PARAMETER),
    ("CreateImage", {"instanceId": 5, "imageName": "x"}, errors.INVALID_PARAMETER),
    ("CreateImage", {"instanceId": "x", "imageName": ["x"]}, errors.INVALID_PARAMETER),
    ("CreateImage", {"instanceId": "x", "imageName": "x" * 500_000}, errors.INVALID_IMAGE_NAME),
    ("CreateImage", {"instanceId": "x", "imageName": "\ud800"}, errors.INVALID_IMAGE_NAME),
    ("DeleteImages", {"imageIds": {}}, errors.INVALID_PARAMETER),
    ("ModifyImagesAttributes", {"imageIds": ["x"], "imageDescription": 3}, errors.INVALID_PARAMETER),
])
def test_wrong_parameters(shared, action, body, code):
    before = snapshot(shared)
    response = bearer_post(shared, action, json.dumps(body).encode())
    if code is None:
        assert response.status_code == 200 and response.json()["response"]["dataSet"] == []
    else:
        assert_refused(response, code)
        if code in (errors.INVALID_PARAMETER, errors.MISSING_PARAMETER):
            assert re.search(r"`[a-zA-Z]+`", response.json()["message"])  # names the parameter
    assert snapshot(shared) == before


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 10 * 1000 * 1000])
def test_oversized_bodies_are_413(shared, size):
    before = snapshot(shared)
    assert_refused(bearer_post(shared, "DescribeZones", b" " * size), errors.REQUEST_TOO_LARGE, status=413)
    assert_refused(signed_post(shared, "DescribeZones", b"{" + b" " * size + b"}"), errors.REQUEST_TOO_LARGE, status=413)
    assert snapshot(shared) == before
    assert bearer_post(shared, "DescribeZones").status_code == 200


def test_streamed_oversized_body_is_413(shared):
    def chunks():
        for _ in range(30):
            yield b" " * 100_000

    response = httpx.post(shared.url + "/api/v2/vm", content=chunks(), timeout=10,
                          headers={"Authorization": f"Bearer {shared.token}", "X-ZC-Action": "DescribeZones"})
    assert_refused(response, errors.REQUEST_TOO_LARGE, status=413)


def test_unknown_action_version_path_and_method(shared):
    assert_refused(bearer_post(shared, "RebootInstances"), errors.INVALID_ACTION)
    assert_refused(signed_post(shared, None), errors.INVALID_ACTION)
    assert_refused(bearer_post(shared, "DescribeZones", **{"X-ZC-Version": "2019-01-01"}), errors.INVALID_VERSION)
    assert_refused(httpx.post(shared.url + "/api/v2/bmc"), errors.INVALID_ACTION, status=404)
    assert_refused(httpx.get(shared.url + "/api/v2/vm"), errors.INVALID_ACTION, status=405)


def test_empty_body_is_an_empty_object(shared):
    assert bearer_post(shared, "DescribeZones", b"").status_code == 200


def test_odd_host_headers(shared):
    """Any single Host is verified as received (here with a comma and a path); two Host headers are a 400."""
    assert signed_post(shared, "DescribeZones", host="http://a, b/c").status_code == 200
    with socket.create_connection((shared.host, shared.port), timeout=5) as sock:
        sock.sendall(b"POST /api/v2/vm HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 0\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400")
    assert bearer_post(shared, "DescribeZones").status_code == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
PARAMETER_NAMES = ["instanceIds", "zoneId", "zoneIds", "imageIds", "imageName", "imageDescription", "instanceId",
                   "pageSize", "pageNum", "instanceName", "instanceStatus", "tags", "forceShutdown", "osType"]


@pytest.fixture(scope="module")
def http():
    with httpx.Client() as client:
        yield client


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from(ACTIONS), body=st.dictionaries(st.sampled_from(PARAMETER_NAMES), json_values, max_size=4))
def test_fuzzed_bodies_never_get_a_5xx(shared, http, action, body):
    response = bearer_post(shared, action, json.dumps(body).encode(), client=http)
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert set(response.json()) == {"requestId", "code", "message"}
