"""The async client's HTTP/1.1 transport (api/_http11.py): keep-alive pool, limits, TLS settings, and httpx's error contract."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from zenlayer_widgets.api import AsyncZenlayerClient, ConnectError, Credentials, OutcomeUnknown, ZenlayerClient, _http11
from zenlayer_widgets.api import client as client_module

from .stub import KEY_ID, PASSWORD
from .test_client import _url, loopback  # noqa: F401  (the loopback server fixture)

BODY = json.dumps({"requestId": "T1", "response": {"requestId": "T1", "zoneSet": []}}).encode()
NO_TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _client(server, **kw) -> AsyncZenlayerClient:
    return AsyncZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url=_url(server), timeout=5, **kw)


async def test_concurrent_calls_open_connections_once_and_reuse_them(loopback) -> None:  # noqa: F811
    loopback.delay = 0.05  # type: ignore[attr-defined]
    async with _client(loopback) as client:
        assert isinstance(client._http._transport, _http11.HTTP11Transport)
        assert await asyncio.gather(*(client.describe_zones() for _ in range(12))) == [[]] * 12
        opened = loopback.connections  # type: ignore[attr-defined]
        assert 2 <= opened <= 12  # they overlapped, each on a connection of its own
        assert await asyncio.gather(*(client.describe_zones() for _ in range(12))) == [[]] * 12
        assert loopback.connections == opened  # type: ignore[attr-defined]  # all kept alive, all reused
        assert client.request_count == 24
        assert client._http._transport.connections == opened


async def test_requests_beyond_the_limit_wait_for_a_connection(loopback) -> None:  # noqa: F811
    loopback.delay = 0.02  # type: ignore[attr-defined]
    transport = _http11.HTTP11Transport(NO_TLS, httpx.Limits(max_connections=3))
    async with httpx.AsyncClient(transport=transport) as http:
        answers = await asyncio.gather(*(http.post(_url(loopback), content=b"{}") for _ in range(8)))
    assert [answer.content for answer in answers] == [BODY] * 8
    assert loopback.connections == 3  # type: ignore[attr-defined]


async def test_a_request_that_finds_no_room_in_time_is_a_pool_timeout_nothing_sent(loopback) -> None:  # noqa: F811
    loopback.delay = 0.3  # type: ignore[attr-defined]
    transport = _http11.HTTP11Transport(NO_TLS, httpx.Limits(max_connections=1))
    async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5, pool=0.05)) as http:
        first = asyncio.ensure_future(http.post(_url(loopback), content=b"{}"))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout):
            await http.post(_url(loopback), content=b"{}")
        assert (await first).content == BODY
    assert loopback.connections == 1  # type: ignore[attr-defined]


async def test_an_expired_idle_connection_is_closed_not_reused(loopback) -> None:  # noqa: F811
    transport = _http11.HTTP11Transport(NO_TLS, httpx.Limits(keepalive_expiry=0.05))
    async with httpx.AsyncClient(transport=transport) as http:
        assert (await http.post(_url(loopback), content=b"{}")).content == BODY
        await asyncio.sleep(0.2)
        assert (await http.post(_url(loopback), content=b"{}")).content == BODY
        assert transport.connections == 1
    assert loopback.connections == 2  # type: ignore[attr-defined]


# -- a raw socket server: each connection is handed to a function that does what the test needs
class RawServer:
    """Accepts connections on a loopback port; ``serve(conn, number)`` speaks for the server on each."""

    def __init__(self, serve: Callable[[socket.socket, int], None]) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted = 0
        self._serve = serve
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._run, args=(conn, self.accepted), daemon=True).start()

    def _run(self, conn: socket.socket, number: int) -> None:
        with conn:
            try:
                self._serve(conn, number)
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()


def read_request(conn: socket.socket) -> bytes:
    """One request (head and Content-Length body) off ``conn``; b"" if the client closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0)
    while len(body) < length:
        body += conn.recv(65536)
    return head


def answer(body: bytes = BODY, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket, int], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(serve: Callable[[socket.socket, int], None]) -> RawServer:
        servers.append(RawServer(serve))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


async def test_an_idle_connection_the_server_closed_is_not_used_again(raw_server) -> None:
    def one_answer_then_close(conn: socket.socket, number: int) -> None:
        read_request(conn)
        conn.sendall(answer())  # keep-alive announced, then the server closes the idle connection anyway

    server = raw_server(one_answer_then_close)
    async with httpx.AsyncClient(transport=_http11.HTTP11Transport(NO_TLS, httpx.Limits())) as http:
        for _ in range(3):
            assert (await http.post(server.url, content=b"{}")).content == BODY
            await asyncio.sleep(0.05)  # the close reaches the client
    assert server.accepted == 3


async def test_connection_close_chunked_and_informational_answers(raw_server) -> None:
    def varied(conn: socket.socket, number: int) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (BODY[:10], BODY[10:])) + b"0\r\n\r\n"
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
        read_request(conn)
        conn.sendall(answer(extra=b"Connection: close\r\n"))

    server = raw_server(varied)
    transport = _http11.HTTP11Transport(NO_TLS, httpx.Limits())
    async with httpx.AsyncClient(transport=transport) as http:
        assert (await http.post(server.url, content=b"{}")).content == BODY
        assert transport.idle_connections == 1
        closing = await http.post(server.url, content=b"{}")
        assert closing.content == BODY and closing.http_version == "HTTP/1.1"
        assert transport.connections == 0  # the server said it closes: not kept


async def test_no_answer_is_remote_protocol_error_and_an_outcome_unknown(raw_server) -> None:
    def hang_up(conn: socket.socket, number: int) -> None:
        read_request(conn)

    server = raw_server(hang_up)
    async with httpx.AsyncClient(transport=_http11.HTTP11Transport(NO_TLS, httpx.Limits())) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await http.post(server.url, content=b"{}")
    async with AsyncZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url=server.url, timeout=5, max_throttle_retries=0) as client:
        with pytest.raises(OutcomeUnknown):
            await client.create_image("ins-1", "image-1")
        assert client._http._transport.connections == 0


async def test_a_refused_connection_is_a_connect_error_nothing_sent() -> None:
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    async with AsyncZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url=f"http://127.0.0.1:{port}", timeout=5,
                                   max_throttle_retries=0) as client:
        with pytest.raises(ConnectError):
            await client.create_image("ins-1", "image-1")
        assert client.request_count == 0 and client._http._transport.connections == 0


async def test_a_large_answer_read_slowly_arrives_whole_and_a_half_read_one_is_not_reused(raw_server) -> None:
    big = b'"' + b"x" * (3 * _http11.READ_HIGH_WATER) + b'"'

    def big_answers(conn: socket.socket, number: int) -> None:
        while read_request(conn):
            conn.sendall(answer(big))

    server = raw_server(big_answers)
    transport = _http11.HTTP11Transport(NO_TLS, httpx.Limits())
    async with httpx.AsyncClient(transport=transport) as http:
        async with http.stream("POST", server.url, content=b"{}") as response:
            await asyncio.sleep(0.2)  # the server sends on; the client stops reading past its high-water mark
            received = b"".join([chunk async for chunk in response.aiter_raw()])
        assert received == big and transport.idle_connections == 1
        async with http.stream("POST", server.url, content=b"{}") as response:
            async for _ in response.aiter_raw():
                break  # given up half-way: the rest of the answer is still on that connection
        assert transport.connections == 0
        assert (await http.post(server.url, content=b"{}")).content == big
    assert server.accepted == 2


async def test_a_cancelled_request_gives_its_connection_up(loopback) -> None:  # noqa: F811
    loopback.delay = 0.5  # type: ignore[attr-defined]
    loopback.handle_error = lambda *args: None  # type: ignore[method-assign]  # its answer meets a closed connection
    transport = _http11.HTTP11Transport(NO_TLS, httpx.Limits(max_connections=1))
    async with httpx.AsyncClient(transport=transport) as http:
        pending = asyncio.ensure_future(http.post(_url(loopback), content=b"{}"))
        await asyncio.sleep(0.1)
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        assert transport.connections == 0  # dropped mid-exchange, the room is free again
        loopback.delay = 0  # type: ignore[attr-defined]
        assert (await http.post(_url(loopback), content=b"{}")).content == BODY


async def test_a_header_h11_refuses_is_a_local_protocol_error_nothing_sent(loopback) -> None:  # noqa: F811
    async with httpx.AsyncClient(transport=_http11.HTTP11Transport(NO_TLS, httpx.Limits())) as http:
        request = http.build_request("POST", _url(loopback), content=b"{}")
        request.headers["Bad Name"] = "x"  # httpx lets it through; HTTP has no header name with a space
        with pytest.raises(httpx.LocalProtocolError):
            await http.send(request)
    assert loopback.connections in (0, 1)  # type: ignore[attr-defined]


def test_tls_settings_are_built_once_per_process_and_not_for_http(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    real = httpx.create_ssl_context

    def counting(*args: object, **kwargs: object) -> ssl.SSLContext:
        built.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(client_module.httpx, "create_ssl_context", counting)
    client_module.tls_context.cache_clear()
    try:
        credentials = Credentials(KEY_ID, PASSWORD)
        plain = [ZenlayerClient(credentials, base_url="http://127.0.0.1:9"), AsyncZenlayerClient(credentials, base_url="http://127.0.0.1:9")]
        assert built == []  # nothing loaded for http
        http_tls = client_module.tls_context(False)
        assert http_tls.get_ca_certs() == [] and http_tls.verify_mode == ssl.CERT_REQUIRED  # refuses any TLS peer
        secure = [ZenlayerClient(credentials, base_url="https://api.test"), AsyncZenlayerClient(credentials, base_url="https://api.test")]
        secure.append(secure[0].to_async())
        assert len(built) == 1  # the CAs are loaded once, then shared
        assert client_module.tls_context(True).verify_mode == ssl.CERT_REQUIRED
        assert secure[1]._http._transport.ssl_context is client_module.tls_context(True)
    finally:
        client_module.tls_context.cache_clear()
        for each in plain + secure:
            if isinstance(each, ZenlayerClient):
                each.close()
            else:
                asyncio.run(each.aclose())


# -- bodies with a Content-Length are read straight off the connection, past h11 -------------------------
async def test_a_body_in_many_pieces_arrives_whole_and_the_connection_is_kept(raw_server) -> None:
    def in_pieces(conn: socket.socket, number: int) -> None:
        while read_request(conn):
            whole = answer()
            for start in range(0, len(whole), 7):
                conn.sendall(whole[start : start + 7])

    server = raw_server(in_pieces)
    transport = _http11.HTTP11Transport(NO_TLS, httpx.Limits())
    async with httpx.AsyncClient(transport=transport) as http:
        for _ in range(3):
            assert (await http.post(server.url, content=b"{}")).content == BODY
        assert transport.idle_connections == 1
    assert server.accepted == 1


@pytest.mark.parametrize(
    ("reply", "kept"),
    [
        pytest.param(answer() + b"HTTP/1.1 200 OK\r\n", False, id="bytes-beyond-the-body"),
        pytest.param(answer().replace(b"HTTP/1.1", b"HTTP/1.0", 1), False, id="http-1.0"),
        pytest.param(answer(extra=b"Connection: keep-alive, close\r\n"), False, id="connection-close"),
        pytest.param(answer(extra=b"Connection: keep-alive\r\n"), True, id="keep-alive"),
    ],
)
async def test_a_connection_is_kept_only_when_both_sides_meant_it_and_nothing_else_came(raw_server, reply: bytes, kept: bool) -> None:
    def once(conn: socket.socket, number: int) -> None:
        while read_request(conn):
            conn.sendall(reply)

    server = raw_server(once)
    transport = _http11.HTTP11Transport(NO_TLS, httpx.Limits())
    async with httpx.AsyncClient(transport=transport) as http:
        assert (await http.post(server.url, content=b"{}")).content == BODY
        assert transport.idle_connections == int(kept)
        assert (await http.post(server.url, content=b"{}")).content == BODY
    assert server.accepted == (1 if kept else 2)


async def test_a_body_cut_short_is_a_remote_protocol_error(raw_server) -> None:
    def cut(conn: socket.socket, number: int) -> None:
        read_request(conn)
        conn.sendall(answer()[:-5])

    server = raw_server(cut)
    transport = _http11.HTTP11Transport(NO_TLS, httpx.Limits())
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="middle of the answer"):
            await http.post(server.url, content=b"{}")
    assert transport.connections == 0


async def test_a_head_answer_announces_a_length_it_does_not_send(raw_server) -> None:
    def head_then_post(conn: socket.socket, number: int) -> None:
        while read_request(conn):
            conn.sendall(answer() if number > 1 or server.asked else b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")
            server.asked = True

    server = raw_server(head_then_post)
    server.asked = False  # type: ignore[attr-defined]
    transport = _http11.HTTP11Transport(NO_TLS, httpx.Limits())
    async with httpx.AsyncClient(transport=transport) as http:
        assert (await http.head(server.url)).content == b""
        assert (await http.post(server.url, content=b"{}")).content == BODY  # the same connection, read right
    assert server.accepted == 1
