"""ZC2-HMAC-SHA256 signing, cross-checked against the official SDK's own signer, and bearer tokens."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zenlayercloud.common.abstract_client import AbstractClient
from zenlayercloud.common.credential import Credential
from zenlayercloud.common.request import BaseRequest

from zenlayer_widgets.api import BearerAuth, Credentials, CredentialsError, ZC2Auth, ZenlayerClient

from .stub import KEY_ID, PASSWORD, TOKEN, ok


def sdk_authorization(key_id: str, secret: str, timestamp: str, host: str, body: bytes, content_type: str) -> str:
    """The Authorization value the official Python SDK computes for this request."""
    sdk = AbstractClient(Credential(key_id, secret))
    request = BaseRequest(host=host, method="POST", uri="/api/v2/vm", data=body.decode("utf-8"))
    request.set_host(host)
    request.set_content_type(content_type)
    request.header["x-zc-timestamp"] = timestamp
    return sdk._build_zc2_authorization(request)


def sign(auth: httpx.Auth, url: str, body: bytes, content_type: str = "application/json") -> httpx.Request:
    """Step the auth flow by hand (as httpx's own tests do) and return the request as it would go out."""
    request = httpx.Request("POST", url, content=body, headers={"Content-Type": content_type})
    return next(auth.sync_auth_flow(request))


def sdk_check(request: httpx.Request, secret: str = PASSWORD) -> str:
    return sdk_authorization(
        KEY_ID, secret, request.headers["x-zc-timestamp"], request.headers["host"], request.content, request.headers["content-type"]
    )


no_surrogates = st.characters(blacklist_categories=("Cs",))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(no_surrogates, max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(no_surrogates, max_size=10), children, max_size=4),
    max_leaves=12,
)
# The SDK's json.dumps defaults (", " / ": ", \\u escapes), compact UTF-8, compact ASCII.
encodings = st.sampled_from(
    [
        lambda value: json.dumps(value).encode(),
        lambda value: json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(),
        lambda value: json.dumps(value, separators=(",", ":")).encode(),
    ]
)
hostnames = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z]{2,6}){0,2}\Z").filter(lambda h: not h.isdigit())
hosts = st.one_of(
    st.sampled_from(["console.zenlayer.com", "127.0.0.1", "localhost", "[::1]"]),
    hostnames,
)
ports = st.one_of(st.none(), st.integers(1, 65535))
secrets = st.text(no_surrogates, min_size=1, max_size=40).map(str.strip).filter(bool)


@settings(max_examples=300, deadline=None)
@given(value=json_values, encode=encodings, host=hosts, port=ports, scheme=st.sampled_from(["http", "https"]), secret=secrets,
       now=st.integers(0, 2**33))
def test_signature_matches_the_official_sdk(value, encode, host, port, scheme, secret, now) -> None:
    body = encode(value)
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}/api/v2/vm"
    signed = sign(ZC2Auth(KEY_ID, secret, clock=lambda: now + 0.75), url, body)

    assert signed.headers["authorization"] == sdk_check(signed, secret)
    assert signed.headers["x-zc-timestamp"] == str(now)
    assert signed.headers["x-zc-signature-method"] == "ZC2-HMAC-SHA256"
    assert signed.content == body


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://127.0.0.1:8000/api/v2/vm", "127.0.0.1:8000"),
        ("https://console.zenlayer.com/api/v2/vm", "console.zenlayer.com"),
        ("https://console.zenlayer.com:443/api/v2/vm", "console.zenlayer.com"),
        ("http://localhost:80/api/v2/vm", "localhost"),
        ("https://emu.test:8443/api/v2/vm", "emu.test:8443"),
    ],
)
def test_the_signed_host_is_the_host_header_as_sent(url: str, host: str) -> None:
    signed = sign(ZC2Auth(KEY_ID, PASSWORD), url, b"{}")
    assert signed.headers["host"] == host
    assert signed.headers["authorization"] == sdk_authorization(
        KEY_ID, PASSWORD, signed.headers["x-zc-timestamp"], host, b"{}", "application/json"
    )
    other_host = sdk_authorization(KEY_ID, PASSWORD, signed.headers["x-zc-timestamp"], "elsewhere:1", b"{}", "application/json")
    assert signed.headers["authorization"] != other_host


def test_a_pinned_clock_pins_the_timestamp_and_the_signature() -> None:
    auth = ZC2Auth(KEY_ID, PASSWORD, clock=lambda: 1_700_000_000.999)
    first = sign(auth, "https://console.zenlayer.com/api/v2/vm", b'{"zoneIds":["FRA-A"]}')
    second = sign(auth, "https://console.zenlayer.com/api/v2/vm", b'{"zoneIds":["FRA-A"]}')
    assert first.headers["x-zc-timestamp"] == "1700000000"
    assert first.headers["authorization"] == second.headers["authorization"]
    later = sign(ZC2Auth(KEY_ID, PASSWORD, clock=lambda: 1_700_000_001), "https://console.zenlayer.com/api/v2/vm",
                 b'{"zoneIds":["FRA-A"]}')
    assert later.headers["authorization"] != first.headers["authorization"]


def test_the_signature_changes_with_a_single_body_byte() -> None:
    auth = ZC2Auth(KEY_ID, PASSWORD, clock=lambda: 1)
    one = sign(auth, "https://h/api/v2/vm", b'{"a": 1}')
    compact = sign(auth, "https://h/api/v2/vm", b'{"a":1}')
    assert one.headers["authorization"] != compact.headers["authorization"]


PAYLOADS = [
    {},
    {"zoneIds": ["FRA-A", "SEL-A"]},
    {"instanceId": "i-1", "imageName": "镜像-备份_01", "imageDescription": "Ünïcödé ✓ \"quoted\" \\ back\nslash"},
    {"instanceName": "web-*", "tags": [{"key": "env", "value": "生产"}], "pageSize": 1000, "pageNum": 3},
]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8000", "https://console.zenlayer.com", "https://emu.test:8443/prefix"])
async def test_the_bytes_signed_are_the_bytes_sent(make_client, payload, base_url) -> None:
    """The server side recomputes the SDK's signature from the raw body and Host it received."""
    seen: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers["authorization"] != sdk_check(request):
            return httpx.Response(401, json={"code": "AUTH_FAILURE_SIGNATURE_MISMATCH", "message": "no", "requestId": "T"})
        return ok(echo=json.loads(request.content))(request)

    client = make_client(server, base_url=base_url)
    answer = await client.call("DescribeSomething", payload)
    assert answer["echo"] == payload
    sent = seen[0]
    assert sent.url.path.endswith("/api/v2/vm")
    assert sent.headers["host"] == httpx.URL(base_url).netloc.decode()


@settings(max_examples=60, deadline=None)
@given(value=st.dictionaries(st.text(no_surrogates, min_size=1, max_size=8), json_values, max_size=4))
def test_any_payload_sent_by_the_client_verifies(value) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == sdk_check(request)
        return ok()(request)

    with ZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url="http://127.0.0.1:8000", transport=httpx.MockTransport(server)) as client:
        client.call("DescribeZones", value)


async def test_bearer_token_headers(make_client) -> None:
    seen: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok(zoneSet=[])(request)

    client = make_client(server, creds=Credentials(token=TOKEN))
    await client.describe_zones()
    headers = seen[0].headers
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert "x-zc-timestamp" not in headers and "x-zc-signature-method" not in headers
    assert headers["x-zc-version"] == "2023-03-13" and headers["x-zc-service"] == "vm"


def test_auth_reprs_hide_the_secrets() -> None:
    assert PASSWORD not in repr(ZC2Auth(KEY_ID, PASSWORD)) and KEY_ID in repr(ZC2Auth(KEY_ID, PASSWORD))
    assert TOKEN not in repr(BearerAuth(TOKEN)) and TOKEN not in str(BearerAuth(TOKEN))


@pytest.mark.parametrize("make", [lambda: ZC2Auth("", PASSWORD), lambda: ZC2Auth(KEY_ID, ""), lambda: BearerAuth("")])
def test_empty_secrets_are_refused(make) -> None:
    with pytest.raises(CredentialsError):
        make()
