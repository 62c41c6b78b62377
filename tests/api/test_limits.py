"""A hostile or broken server cannot hold a call, fill the memory or feed numbers Python chokes on.

The deadline is tried against a real loopback server that trickles its answer a byte at a time
(a per-read timeout never fires on it); sizes, pages and numbers through the scripted stub.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from zenlayer_widgets.api import AsyncZenlayerClient, Credentials, Image, OutcomeUnknown, UnexpectedResponse, ZenlayerClient

from .stub import KEY_ID, PASSWORD, ok, raw

#: The trickling server gives up after this long, so a client without a deadline fails the test, not the suite.
TRICKLE_BOUND_SECONDS = 12.0
BYTE_INTERVAL = 0.1


class Trickler:
    """A loopback HTTP/1.1 server that sends a valid answer one byte every ``BYTE_INTERVAL`` seconds.

    ``headers_at_once`` sends the status line and headers in one go and trickles only the body.
    """

    def __init__(self, headers_at_once: bool) -> None:
        self.headers_at_once = headers_at_once
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.requests = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            self.requests += 1
            body = json.dumps({"requestId": "T1", "response": {"requestId": "T1", "imageId": "img-1", "zoneSet": []}}).encode()
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body) * 1000}\r\n\r\n".encode()
            if self.headers_at_once:
                conn.sendall(head)
                trickle = body + b" " * (len(body) * 999)
            else:
                trickle = head + body
            started = time.monotonic()
            try:
                for byte in trickle:
                    if self.stopping.is_set() or time.monotonic() - started > TRICKLE_BOUND_SECONDS:
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(BYTE_INTERVAL)
            except OSError:  # the client hung up: what a deadline does
                return

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()
        self.thread.join(2)


@pytest.fixture(params=["trickled-headers", "trickled-body"])
def trickler(request: pytest.FixtureRequest) -> Iterator[Trickler]:
    server = Trickler(headers_at_once=request.param == "trickled-body")
    yield server
    server.close()


def test_a_trickled_answer_cannot_hold_a_sync_create_past_its_deadline(trickler) -> None:
    with ZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url=trickler.url, timeout=0.5) as client:
        assert client.deadline == 1.0  # derived from the timeout
        started = time.monotonic()
        with pytest.raises(OutcomeUnknown) as caught:
            client.create_image("i-1", "backup")
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed
    assert caught.value.outcome_unknown and caught.value.action == "CreateImage"
    assert "deadline of 1 s" in str(caught.value) and "may or may not have been applied" in str(caught.value)
    assert trickler.requests == 1  # a create is never sent twice


async def test_a_trickled_answer_cannot_hold_an_async_call_past_its_deadline(trickler) -> None:
    async with AsyncZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url=trickler.url, timeout=0.5, deadline=0.8) as client:
        started = time.monotonic()
        with pytest.raises(OutcomeUnknown) as caught:
            await client.create_image("i-1", "backup")
        elapsed = time.monotonic() - started
    assert elapsed < 2.0, elapsed
    assert "deadline of 0.8 s" in str(caught.value) and caught.value.outcome_unknown
    assert trickler.requests == 1


def test_the_deadline_is_per_exchange_and_carried_to_the_async_twin() -> None:
    client = ZenlayerClient(Credentials(KEY_ID, PASSWORD), timeout=3, deadline=20, max_response_bytes=1000, max_pages=7)
    twin = client.to_async()
    assert (twin.deadline, twin.max_response_bytes, twin.max_pages) == (20.0, 1000, 7)
    for bad in ({"deadline": 0}, {"deadline": -1}, {"max_response_bytes": 0}, {"max_pages": 0}, {"max_pages": 2.5},
                {"max_listing_bytes": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ZenlayerClient(Credentials(KEY_ID, PASSWORD), **bad)


# ---------------------------------------------------------------------------- sizes


async def test_an_answer_over_the_size_limit_is_refused(make_client, stub) -> None:
    big = json.dumps({"requestId": "T", "response": {"requestId": "T", "zoneSet": [{"zoneId": "Z" * 5000}]}})
    client = make_client(stub.on("DescribeZones", raw(200, big, "application/json")), max_response_bytes=4096)
    with pytest.raises(UnexpectedResponse) as caught:
        await client.describe_zones()
    assert "over the limit of 4096 bytes" in str(caught.value) and "max_response_bytes" in str(caught.value)
    assert stub.actions() == ["DescribeZones"]  # not retried: the same answer would come again


async def test_an_endless_answer_is_cut_off_not_buffered(make_client) -> None:
    """A body that never ends (a chunked stream) stops at the limit: memory stays bounded."""
    sent = [0]

    def chunks() -> Iterator[bytes]:
        while True:
            sent[0] += 65536
            yield b" " * 65536

    async def async_chunks():
        for chunk in chunks():
            yield chunk

    holder: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        content = async_chunks() if holder["client"].is_async else chunks()  # type: ignore[attr-defined]
        return httpx.Response(200, headers={"content-type": "application/json"}, content=content)

    client = holder["client"] = make_client(handler, max_response_bytes=1024 * 1024)
    with pytest.raises(UnexpectedResponse, match="more than 1048576 bytes"):
        await client.create_image("i-1", "backup")
    assert sent[0] <= 2 * 1024 * 1024


async def test_a_compressed_bomb_is_measured_after_decoding(make_client, stub) -> None:
    bomb = gzip.compress(b" " * (20 * 1024 * 1024))
    assert len(bomb) < 100_000
    reply = raw(200, bomb, "application/json", headers={"content-encoding": "gzip"})
    client = make_client(stub.on("DescribeZones", reply), max_response_bytes=1024 * 1024)
    with pytest.raises(UnexpectedResponse, match="over the limit of 1048576 bytes"):
        await client.describe_zones()


async def test_an_announced_oversize_answer_is_refused_before_reading(make_client, stub) -> None:
    reply = raw(200, b'{"requestId": "T", "response": {}}', "application/json", headers={"content-length": str(10**12)})

    def handler(request: httpx.Request) -> httpx.Response:
        response = reply(request)
        response.headers["content-length"] = str(10**12)
        return response

    client = make_client(handler, max_response_bytes=4096)
    with pytest.raises(UnexpectedResponse, match=f"announces {10**12} bytes"):
        await client.describe_zones()


async def test_the_default_limit_lets_a_large_real_page_through(make_client, stub) -> None:
    rows = [{"instanceId": f"i-{n:05d}", "instanceName": "x" * 200} for n in range(1000)]
    client = make_client(stub.on("DescribeInstances", ok(dataSet=rows, totalCount=1000)))
    assert len(await client.list_instances()) == 1000


# ---------------------------------------------------------------------------- pages


async def test_a_listing_that_never_ends_stops_at_max_pages(make_client, stub) -> None:
    """Each page brings new ids and a totalCount that keeps growing: the walk stops with a clear error."""
    calls = [0]

    def endless(request: httpx.Request) -> httpx.Response:
        calls[0] += 1
        if calls[0] > 50:  # bound the test even without the cap
            return ok(dataSet=[], totalCount=0)(request)
        rows = [{"imageId": f"img-{calls[0]}-{n}"} for n in range(2)]
        return ok(dataSet=rows, totalCount=10**9)(request)

    client = make_client(endless, max_pages=5)
    with pytest.raises(UnexpectedResponse) as caught:
        await client.list_images("FRA-A")
    assert calls[0] == 5
    assert "not ended after 5 pages" in str(caught.value) and "max_pages" in str(caught.value)


async def test_a_listing_of_pages_too_large_in_all_stops_at_max_listing_bytes(make_client) -> None:
    """Each page is within max_response_bytes, but together they pass max_listing_bytes: the walk stops there."""
    calls = [0]

    def fat(request: httpx.Request) -> httpx.Response:
        calls[0] += 1
        if calls[0] > 50:  # bound the test even without the cap
            return ok(dataSet=[], totalCount=0)(request)
        rows = [{"imageId": f"img-{calls[0]}-{n}", "imageDescription": "x" * 900} for n in range(10)]
        return ok(dataSet=rows, totalCount=10**6)(request)

    client = make_client(fat, max_response_bytes=64 * 1024, max_listing_bytes=30_000)
    with pytest.raises(UnexpectedResponse) as caught:
        await client.list_images("FRA-A")
    assert calls[0] == 4  # about 9.5 KB a page: the fourth passes 30,000 bytes
    assert "over the limit of 30000 bytes" in str(caught.value) and "max_listing_bytes" in str(caught.value)


# ---------------------------------------------------------------------------- numbers


BAD_NUMBERS = [
    pytest.param('{"imageId": "img-1", "imageSize": NaN}', "NaN", id="nan"),
    pytest.param('{"imageId": "img-1", "imageSize": Infinity}', "Infinity", id="infinity"),
    pytest.param('{"imageId": "img-1", "imageSize": -Infinity}', "-Infinity", id="minus-infinity"),
    pytest.param('{"imageId": "img-1", "imageSize": 1e999}', "out of range", id="float-overflow"),
    # msgspec's decoder names the field instead of counting digits (the answer is refused either way)
    pytest.param('{"imageId": "img-1", "imageSize": ' + "9" * 5000 + "}", "out of range - at `dataSet[0].imageSize`", id="huge-integer"),
]


@pytest.mark.parametrize(("row", "said"), BAD_NUMBERS)
async def test_numbers_json_does_not_have_are_an_unexpected_response(make_client, stub, row, said) -> None:
    body = '{"requestId": "T", "response": {"requestId": "T", "totalCount": 1, "dataSet": [' + row + "]}}"
    client = make_client(stub.on("DescribeImages", raw(200, body, "application/json")))
    with pytest.raises(UnexpectedResponse) as caught:
        await client.describe_images("FRA-A")
    assert said in str(caught.value) and caught.value.http_status == 200


def test_models_refuse_infinite_or_junk_numbers_by_field_not_overflow() -> None:
    """A wire dict (``client.call``) with a non-finite or non-numeric size: a clear error naming the
    field, never OverflowError; a size written as text that is no whole number reads as unknown."""
    import msgspec

    for junk in (float("inf"), float("-inf"), float("nan"), [1]):
        with pytest.raises(msgspec.ValidationError, match=r"imageSize"):
            Image.from_wire({"imageId": "img-1", "imageSize": junk})
    assert Image.from_wire({"imageId": "img-1", "imageSize": "1e999"}).image_size is None
