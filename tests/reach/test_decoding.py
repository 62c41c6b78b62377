"""Compressed answers are decoded as they arrive, the size cap applied to what decoding gives: a gzip bomb is
refused before memory grows (peak allocation measured), a good compressed answer arrives whole."""

from __future__ import annotations

import json
import socket
import threading
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest

from zenlayer_widgets.api import AsyncZenlayerClient, Credentials, UnexpectedResponse, ZenlayerClient

KEY_ID, PASSWORD = "AKID-TEST-0001", "pw-decoding-test"
LIMIT = 1024 * 1024
BOMB_BYTES = 256 * 1024 * 1024


def compressed(data_chunks: Iterator[bytes], wbits: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return b"".join(packer.compress(chunk) for chunk in data_chunks) + packer.flush()


def bomb() -> bytes:
    """256 MiB of spaces as gzip (about 250 KB), built without ever holding the 256 MiB."""
    return compressed((b" " * (1024 * 1024) for _ in range(BOMB_BYTES // (1024 * 1024))), 16 + zlib.MAX_WBITS)


class OneAnswer:
    """A loopback server that answers every request with the same raw HTTP/1.1 answer."""

    def __init__(self, body: bytes, encoding: str) -> None:
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: {encoding}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self._answer = head + body
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                try:
                    conn.sendall(self._answer)
                except OSError:
                    pass  # the client stopped reading: that is the point

    def close(self) -> None:
        self._sock.close()


@pytest.fixture(scope="module")
def bomb_server() -> Iterator[OneAnswer]:
    server = OneAnswer(bomb(), "gzip")
    yield server
    server.close()


def test_a_gzip_bomb_is_refused_before_memory_grows_sync(bomb_server: OneAnswer) -> None:
    client = ZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url=bomb_server.url, max_response_bytes=LIMIT)
    tracemalloc.start()
    try:
        with client, pytest.raises(UnexpectedResponse, match=f"more than {LIMIT} bytes once gzip-decoded"):
            client.describe_zones()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * LIMIT  # httpx's own decoder made 60+ MiB of one 64 KiB chunk before the cap was checked


async def test_a_gzip_bomb_is_refused_before_memory_grows_async(bomb_server: OneAnswer) -> None:
    client = AsyncZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url=bomb_server.url, max_response_bytes=LIMIT)
    tracemalloc.start()
    try:
        async with client:
            with pytest.raises(UnexpectedResponse, match=f"more than {LIMIT} bytes once gzip-decoded"):
                await client.describe_zones()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * LIMIT


@pytest.mark.parametrize(("encoding", "wbits"), [("gzip", 16 + zlib.MAX_WBITS), ("deflate", zlib.MAX_WBITS),
                                                 ("deflate", -zlib.MAX_WBITS)])
def test_a_compressed_answer_arrives_whole(encoding: str, wbits: int) -> None:
    zones = [{"zoneId": f"Z-{n}", "zoneName": "x" * 200} for n in range(2000)]  # about 450 KB once decoded
    body = compressed(iter([json.dumps({"requestId": "R", "response": {"requestId": "R", "zoneSet": zones}}).encode()]), wbits)
    server = OneAnswer(body, encoding)
    try:
        with ZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url=server.url, max_response_bytes=LIMIT) as client:
            assert [zone.zone_id for zone in client.describe_zones()] == [f"Z-{n}" for n in range(2000)]
    finally:
        server.close()


def test_an_encoding_not_asked_for_is_an_unexpected_response() -> None:
    server = OneAnswer(b"\x1b\x00\x00", "br")
    try:
        with ZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url=server.url) as client:
            with pytest.raises(UnexpectedResponse, match="content encoding 'br', which was not asked for"):
                client.describe_zones()
    finally:
        server.close()
