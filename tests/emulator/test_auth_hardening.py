"""Forged, tampered, replayed and unauthenticated requests for every action that changes state:
each is refused with a 4xx and changes nothing, while the same request signed properly is applied.

(tests/emulator/test_auth.py covers the error codes on read actions; here the point is that a
refusal never lets a change through.)
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

import httpx
import pytest

from zenlayer_widgets.api import signing
from zenlayer_widgets.emulator import API_PATH, RunningEmulator, start_emulator

from .helpers import snapshot

CONTENT_TYPE = "application/json"


def bodies(emulator: RunningEmulator) -> dict[str, dict]:
    """For each changing action, a body the emulator would apply if the request were genuine."""
    by_name = {i.instance_name: i.instance_id for i in emulator.backend.instances.values()}
    golden = next(i.image_id for i in emulator.backend.images.values() if i.image_name == "web-golden-2025")
    return {
        "StopInstances": {"instanceIds": [by_name["web-hkg-01"]]},
        "StartInstances": {"instanceIds": [by_name["build-hkg-01"]]},
        "CreateImage": {"instanceId": by_name["db-hkg-01"], "imageName": "forged-image"},
        "DeleteImages": {"imageIds": [golden]},
        "ModifyImagesAttributes": {"imageIds": [golden], "imageName": "forged-name"},
    }


ACTIONS = ["StopInstances", "StartInstances", "CreateImage", "DeleteImages", "ModifyImagesAttributes"]


def send(
    emulator: RunningEmulator,
    action: str,
    body: bytes,
    *,
    signed_body: bytes | None = None,
    signed_host: str | None = None,
    host: str | None = None,
    secret: str | None = None,
    key_id: str | None = None,
    timestamp: int | None = None,
    drop: tuple[str, ...] = (),
) -> httpx.Response:
    """A signed request where each piece of what was signed can differ from what is sent."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    host = host or emulator.host_port
    sig = signing.signature(secret or emulator.access_key_password, stamp, CONTENT_TYPE, signed_host or host,
                            body if signed_body is None else signed_body)
    headers = {
        "Host": host, "Content-Type": CONTENT_TYPE, "X-ZC-Action": action, "X-ZC-Version": "2023-03-13",
        "X-ZC-Timestamp": stamp, "X-ZC-Signature-Method": signing.SIGNATURE_METHOD,
        "Authorization": signing.authorization_header(key_id or emulator.access_key_id, sig),
    }
    for name in drop:
        headers.pop(name)
    return httpx.post(emulator.url + API_PATH, content=body, headers=headers, timeout=10)


def raw(body: dict) -> bytes:
    return json.dumps(body).encode()


def raw_post(emulator: RunningEmulator, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    """POST over a bare HTTP/1.0 socket, exactly these headers (values httpx refuses to send; no Host)."""
    lines = [f"POST {API_PATH} HTTP/1.0"] + [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "", ""]
    with socket.create_connection((emulator.host, emulator.port), timeout=5) as sock:
        sock.sendall("\r\n".join(lines).encode() + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, payload = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload or b"{}")


def tampered_body(emulator: RunningEmulator, action: str, body: dict) -> httpx.Response:
    """Signed for a harmless body (the same action's with other ids), sent with the genuine one."""
    harmless = {key: (["0000000000000"] if isinstance(value, list) else "0000000000000") for key, value in body.items()}
    return send(emulator, action, raw(body), signed_body=raw(harmless))


def reserialised_body(emulator: RunningEmulator, action: str, body: dict) -> httpx.Response:
    """The same JSON, other bytes (no spaces): the signature covers bytes, not meaning."""
    return send(emulator, action, json.dumps(body, separators=(",", ":")).encode(), signed_body=raw(body))


FORGERIES: dict[str, Callable[[RunningEmulator, str, dict], httpx.Response]] = {
    "tampered body": tampered_body,
    "re-serialised body": reserialised_body,
    "tampered host": lambda e, a, b: send(e, a, raw(b), signed_host="console.zenlayer.com", host=e.host_port),
    "host changed after signing": lambda e, a, b: send(e, a, raw(b), signed_host=e.host_port, host="127.0.0.2:1"),
    "wrong secret": lambda e, a, b: send(e, a, raw(b), secret=e.access_key_password + "x"),
    "secret of another key": lambda e, a, b: send(e, a, raw(b), secret="someone-elses-password"),
    "unknown key id": lambda e, a, b: send(e, a, raw(b), key_id="SOMEONE-ELSE"),
    "replayed 6 minutes later": lambda e, a, b: send(e, a, raw(b), timestamp=int(time.time()) - 360),
    "stamped 6 minutes ahead": lambda e, a, b: send(e, a, raw(b), timestamp=int(time.time()) + 360),
    "no Authorization": lambda e, a, b: send(e, a, raw(b), drop=("Authorization",)),
    "no X-ZC-Timestamp": lambda e, a, b: send(e, a, raw(b), drop=("X-ZC-Timestamp",)),
    "no X-ZC-Signature-Method": lambda e, a, b: send(e, a, raw(b), drop=("X-ZC-Signature-Method",)),
    "no Content-Type": lambda e, a, b: send(e, a, raw(b), drop=("Content-Type",)),
    "no X-ZC-Action": lambda e, a, b: send(e, a, raw(b), drop=("X-ZC-Action",)),
}
TOKENS = {
    "wrong token": lambda token: f"Bearer {token}x",
    "truncated token": lambda token: f"Bearer {token[:-1]}",
    "empty token": lambda token: "Bearer ",
    "bare Bearer": lambda token: "Bearer",
    "token in another scheme": lambda token: f"Basic {token}",
    "the password as a token": lambda token: "Bearer demo-emulator-password-not-a-secret",
}


@pytest.fixture(scope="module")
def shared():
    """Refused requests change nothing, so one emulator serves every refusal (reset before the controls)."""
    with start_emulator(transition_seconds=3600) as running:
        yield running


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_forged_requests_are_refused_and_change_nothing(shared, forgery, action):
    before = snapshot(shared)
    response = FORGERIES[forgery](shared, action, bodies(shared)[action])
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert set(response.json()) == {"requestId", "code", "message"}
    assert snapshot(shared) == before


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("token", list(TOKENS))
def test_bad_bearer_tokens_are_refused_and_change_nothing(shared, token, action):
    before = snapshot(shared)
    status, answer = raw_post(shared, raw(bodies(shared)[action]), {
        "Host": shared.host_port, "Authorization": TOKENS[token](shared.token), "X-ZC-Action": action, "Content-Type": CONTENT_TYPE})
    assert 400 <= status < 500 and answer["code"].startswith("AUTH_FAILURE"), (status, answer)
    assert snapshot(shared) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_the_same_requests_signed_properly_are_applied(action):
    """The control: what the forgeries above asked for does change the state when genuine."""
    with start_emulator(transition_seconds=3600) as fresh:
        before = snapshot(fresh)
        signed = send(fresh, action, raw(bodies(fresh)[action]))
        assert signed.status_code == 200, signed.text
        assert snapshot(fresh) != before
    with start_emulator(transition_seconds=3600) as fresh:
        before = snapshot(fresh)
        bearer = httpx.post(fresh.url + API_PATH, content=raw(bodies(fresh)[action]), timeout=10, headers={
            "Authorization": f"Bearer {fresh.token}", "X-ZC-Action": action, "Content-Type": CONTENT_TYPE})
        assert bearer.status_code == 200 and snapshot(fresh) != before


def test_a_captured_request_replayed_after_the_window_is_refused(monkeypatch):
    """Byte for byte the request that was applied, sent again once its timestamp is too old."""
    with start_emulator(transition_seconds=3600, timestamp_window_seconds=1) as emulator:
        stamp = int(time.time())
        # the server's clock is the test's: the first send arrives at its stamp (on the real clock a stamp cut to
        # the whole second, plus a slow request, could already be more than the 1 s window old), the replay later
        server_time = [float(stamp)]
        monkeypatch.setattr(emulator.pipeline, "_wall_clock", lambda: server_time[0])
        body = raw({"instanceIds": [emulator.backend.instance_named("web-hkg-01").instance_id]})
        assert send(emulator, "StopInstances", body, timestamp=stamp).status_code == 200
        emulator.backend.reset()  # web-hkg-01 RUNNING again: the replay would stop it if accepted
        before = snapshot(emulator)
        server_time[0] += 2.2  # the window is long over
        replay = send(emulator, "StopInstances", body, timestamp=stamp)
        assert (replay.status_code, replay.json()["code"]) == (401, "AUTH_FAILURE_REQUEST_EXPIRED")
        assert snapshot(emulator) == before


@pytest.mark.parametrize("host", [None, " "], ids=["no Host", "empty Host"])
def test_a_request_without_host_is_refused_and_changes_nothing(shared, host):
    """Signed over an empty Host (HTTP/1.0 allows leaving it out): the signed Host is required."""
    before = snapshot(shared)
    body = raw(bodies(shared)["StopInstances"])
    stamp = str(int(time.time()))
    sig = signing.signature(shared.access_key_password, stamp, CONTENT_TYPE, host or "", body)
    status, answer = raw_post(shared, body, {
        **({} if host is None else {"Host": host}),
        "Content-Type": CONTENT_TYPE, "X-ZC-Action": "StopInstances", "X-ZC-Timestamp": stamp,
        "X-ZC-Signature-Method": signing.SIGNATURE_METHOD,
        "Authorization": signing.authorization_header(shared.access_key_id, sig)})
    assert (status, answer.get("code")) == (401, "AUTH_FAILURE_MISSING_AUTHORIZATION")
    assert snapshot(shared) == before
