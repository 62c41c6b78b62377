"""Every way an answer can go wrong becomes one clear error from the tree, with its action and no secret."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from zenlayer_widgets.api import (
    APIError,
    AuthError,
    ConnectError,
    Credentials,
    InvalidParameter,
    InvalidState,
    NotFound,
    OutcomeUnknown,
    QuotaExceeded,
    ServerError,
    UnexpectedResponse,
    ZenlayerClient,
)

from .stub import KEY_ID, PASSWORD, TOKEN, boom, fail, ok, raw

# (reply to DescribeImages, expected class, expected code or None, HTTP status or None)
ERROR_PATHS = [
    pytest.param(raw(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"), UnexpectedResponse, "UNEXPECTED_RESPONSE", 502,
                 id="html-502"),
    pytest.param(raw(500, b"", content_type=None), UnexpectedResponse, "UNEXPECTED_RESPONSE", 500, id="empty-500"),
    pytest.param(raw(500, "   \n", content_type="application/json"), UnexpectedResponse, "UNEXPECTED_RESPONSE", 500,
                 id="blank-json-500"),
    pytest.param(raw(400, '{"message": "no code here", "requestId": "T-X"}', "application/json"), UnexpectedResponse,
                 "UNEXPECTED_RESPONSE", 400, id="json-without-code"),
    pytest.param(raw(200, '{"requestId": "T-X"}', "application/json"), UnexpectedResponse, "UNEXPECTED_RESPONSE", 200,
                 id="200-without-response"),
    pytest.param(raw(200, '{"requestId": "T-X", "response": [1, 2]}', "application/json"), UnexpectedResponse,
                 "UNEXPECTED_RESPONSE", 200, id="200-response-not-an-object"),
    pytest.param(raw(200, "[1, 2, 3]", "application/json"), UnexpectedResponse, "UNEXPECTED_RESPONSE", 200, id="json-array"),
    pytest.param(raw(200, '{"requestId": "T', "application/json"), UnexpectedResponse, "UNEXPECTED_RESPONSE", 200,
                 id="truncated-json"),
    pytest.param(raw(200, '{"response": {"dataSet": []}}', "text/plain"), UnexpectedResponse, "UNEXPECTED_RESPONSE", 200,
                 id="json-as-text-plain"),
    pytest.param(raw(200, b"\xff\xfe\x00garbage", "application/json"), UnexpectedResponse, "UNEXPECTED_RESPONSE", 200,
                 id="not-utf8"),
    pytest.param(raw(403, "<html>challenge</html>", headers={"cf-mitigated": "challenge"}), UnexpectedResponse,
                 "SECURITY_CHALLENGE", 403, id="waf-challenge"),
    pytest.param(raw(451, "blocked", "text/plain"), UnexpectedResponse, "REQUEST_BLOCKED", 451, id="451"),
    pytest.param(ok(dataSet="nope", totalCount=1), UnexpectedResponse, "UNEXPECTED_RESPONSE", 200, id="dataset-not-a-list"),
    pytest.param(fail(404, "INVALID_ZONE_NOT_FOUND", "The zone `X` is not found"), NotFound, "INVALID_ZONE_NOT_FOUND", 404,
                 id="not-found"),
    pytest.param(fail(404, "INVALID_REGION_NOT_FOUND"), NotFound, "INVALID_REGION_NOT_FOUND", 404, id="region-not-found"),
    pytest.param(fail(400, "LIMIT_EXCEEDED_IMAGE_QUOTA"), QuotaExceeded, "LIMIT_EXCEEDED_IMAGE_QUOTA", 400, id="quota"),
    pytest.param(fail(400, "UNSUPPORTED_OPERATION_INSTANCE_STATE_STARTING"), InvalidState,
                 "UNSUPPORTED_OPERATION_INSTANCE_STATE_STARTING", 400, id="state"),
    pytest.param(fail(403, "OPERATION_DENIED_INSTANCE_NOT_STOPPED"), InvalidState, "OPERATION_DENIED_INSTANCE_NOT_STOPPED", 403,
                 id="denied-is-state-not-auth"),
    pytest.param(fail(400, "INVALID_IMAGE_STATUS"), InvalidState, "INVALID_IMAGE_STATUS", 400, id="image-status"),
    pytest.param(fail(401, "AUTH_FAILURE_SIGNATURE_MISMATCH"), AuthError, "AUTH_FAILURE_SIGNATURE_MISMATCH", 401, id="auth"),
    pytest.param(fail(401, "AUTH_FAILURE_REQUEST_EXPIRED"), AuthError, "AUTH_FAILURE_REQUEST_EXPIRED", 401, id="expired"),
    pytest.param(fail(400, "INVALID_PARAMETER_IMAGE_NAME"), InvalidParameter, "INVALID_PARAMETER_IMAGE_NAME", 400,
                 id="parameter"),
    pytest.param(fail(500, "INTERNAL_SERVER_ERROR"), ServerError, "INTERNAL_SERVER_ERROR", 500, id="json-500"),
    pytest.param(boom(httpx.ConnectError, "[Errno 111] Connection refused"), ConnectError, None, None, id="connect-refused"),
    pytest.param(boom(httpx.ConnectTimeout), ConnectError, None, None, id="connect-timeout"),
    pytest.param(boom(httpx.ReadTimeout), OutcomeUnknown, None, None, id="read-timeout"),
    pytest.param(boom(httpx.RemoteProtocolError, "Server disconnected without sending a response."), OutcomeUnknown, None, None,
                 id="dropped"),
    pytest.param(boom(httpx.ReadError), OutcomeUnknown, None, None, id="read-error"),
]


@pytest.mark.parametrize(("reply", "error_type", "code", "status"), ERROR_PATHS)
async def test_error_paths(make_client, stub, reply, error_type, code, status) -> None:
    client = make_client(stub.on("DescribeImages", reply), max_throttle_retries=0)
    with pytest.raises(error_type) as caught:
        await client.describe_images("FRA-A")
    error = caught.value
    assert error.action == "DescribeImages"
    if code is not None:
        assert (error.code, error.http_status) == (code, status)
        assert isinstance(error, APIError) and str(status) in str(error)
    else:
        assert caught.value.outcome_unknown is (error_type is OutcomeUnknown)
    assert "Traceback" not in str(error) and len(str(error)) < 500


async def test_an_html_error_page_is_summarised_with_its_status(make_client, stub) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 5000 + "</body></html>"
    client = make_client(stub.on("DeleteImages", raw(502, page)))
    with pytest.raises(UnexpectedResponse) as caught:
        await client.delete_images(["img-1"])
    text = str(caught.value)
    assert "HTTP 502" in text and "text/html" in text and "502 Bad Gateway" in text
    assert len(caught.value.message) < 300
    assert caught.value.outcome_unknown  # a gateway error: the delete may or may not have happened


async def test_api_error_fields_come_from_the_flat_error_body(make_client, stub) -> None:
    client = make_client(stub.on("CreateImage", fail(404, "INVALID_INSTANCE_NOT_FOUND", "Instance i-9 not found", "T-ABC")))
    with pytest.raises(NotFound) as caught:
        await client.create_image("i-9", "backup")
    error = caught.value
    assert (error.code, error.message, error.request_id, error.http_status) == (
        "INVALID_INSTANCE_NOT_FOUND", "Instance i-9 not found", "T-ABC", 404)
    assert error.action == "CreateImage" and not error.outcome_unknown


async def test_a_refused_loopback_port_is_a_connect_error() -> None:
    """A real connection attempt to a closed loopback port: nothing was sent, so nothing is counted."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    sync = ZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url=f"http://127.0.0.1:{port}", sleep=sleeps.append, timeout=2)
    with sync, pytest.raises(ConnectError) as caught:
        sync.describe_zones()
    assert f"127.0.0.1:{port}" in str(caught.value) and caught.value.outcome_unknown is False
    assert sync.request_count == 0 and len(sleeps) == 2  # retried twice, then given up
    async with sync.to_async() as twin:
        with pytest.raises(ConnectError):
            await twin.describe_zones()
        assert twin.request_count == 0


# ---------------------------------------------------------------------------- secrets


LEAKY_REPLIES = [
    raw(502, f"<pre>Authorization: Bearer {TOKEN}\npassword={PASSWORD}</pre>"),
    raw(400, f'{{"requestId": "T", "message": "bad token {TOKEN} / {PASSWORD}"}}', "application/json"),
    fail(401, "AUTH_FAILURE_INVALID_TOKEN", f"token {TOKEN} is not valid; password {PASSWORD}"),
    raw(429, f"slow down {TOKEN}", "text/plain"),
    fail(429, "REQUEST_LIMIT_EXCEEDED", f"too fast, {PASSWORD}"),
    fail(500, "INTERNAL_SERVER_ERROR", f"{PASSWORD}"),
    raw(200, f'{{"oops": "{TOKEN}"}}', "application/json"),
    boom(httpx.ConnectError, f"cannot connect {TOKEN}"),
    boom(httpx.ReadTimeout, f"timed out {PASSWORD}"),
    boom(httpx.RemoteProtocolError, "peer closed"),
]


@pytest.mark.parametrize("reply", LEAKY_REPLIES)
@pytest.mark.parametrize("creds", [Credentials(KEY_ID, PASSWORD), Credentials(token=TOKEN)], ids=["hmac", "token"])
async def test_no_secret_in_any_error_log_or_repr(make_client, stub, caplog, reply, creds) -> None:
    """Even a server that echoes the secrets back cannot make them show up in errors or logs."""
    caplog.set_level(logging.DEBUG)
    client = make_client(stub.on("DescribeImages", reply), creds=creds, max_throttle_retries=2)
    with pytest.raises(Exception) as caught:
        await client.describe_images("FRA-A")
    error = caught.value
    shown = [str(error), repr(error), repr(client.client), str(client.client), repr(creds), str(getattr(error, "message", ""))]
    shown += [record.getMessage() for record in caplog.records]
    shown += [str(record.args) for record in caplog.records]
    secrets = [secret for secret in (creds.access_key_password, creds.token) if secret]
    for text in shown:
        assert not any(secret in text for secret in secrets), text
    assert error.action == "DescribeImages"


async def test_an_echoed_secret_is_redacted_not_dropped(make_client, stub) -> None:
    reply = raw(502, f"<pre>X-Debug: {PASSWORD}\nAuthorization: Bearer abc.def</pre>")
    client = make_client(stub.on("StartInstances", reply))
    with pytest.raises(UnexpectedResponse) as caught:
        await client.start_instances(["i-1"])
    assert "X-Debug: <redacted>" in str(caught.value) and "Bearer <redacted>" in str(caught.value)
