"""A loopback forward proxy and a TLS front with a private CA, for the tests of how the clients reach the API.

Host names ending in ``.invalid`` never resolve, so a client that reaches ``zenlayer.invalid`` can
only have gone through :class:`ForwardProxy`, which sends them to 127.0.0.1 (same port).
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

import trustme

HOST = "zenlayer.invalid"


def _pump(left: socket.socket, right: socket.socket) -> None:
    """Bytes both ways until either side closes (TLS sockets' buffered bytes included)."""
    sockets = [left, right]
    try:
        while True:
            ready, _, _ = select.select(sockets, [], [], 30)
            if not ready:
                return
            for source in ready:
                target = right if source is left else left
                data = source.recv(65536)
                if not data:
                    return
                target.sendall(data)
                while isinstance(source, ssl.SSLSocket) and source.pending():
                    target.sendall(source.recv(source.pending()))
    except OSError:
        return
    finally:
        for each in sockets:
            with contextlib.suppress(OSError):
                each.close()


def _resolve(host: str) -> str:
    if host.endswith(".invalid") or host in ("localhost", "127.0.0.1"):
        return "127.0.0.1"
    raise OSError(f"the test proxy reaches loopback only, not {host}")


class _Server:
    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._sock.close()


class ForwardProxy(_Server):
    """An HTTP forward proxy: ``CONNECT host:port`` tunnels and absolute-form requests (one per connection)."""

    def __init__(self) -> None:
        #: Each request line it was sent ("CONNECT zenlayer.invalid:443", "POST http://zenlayer.invalid:80/api/v2/vm").
        self.seen: list[str] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self, conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            data = conn.recv(65536)
            if not data:
                conn.close()
                return
            head += data
        head, rest = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        self.seen.append(f"{method} {target}")
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((_resolve(host), int(port)))
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _pump(conn, upstream)
            return
        url = urlsplit(target)
        headers = [line for line in lines[1:] if line.split(":", 1)[0].strip().lower() not in ("connection", "proxy-connection")]
        length = next((int(line.split(":", 1)[1]) for line in headers if line.lower().startswith("content-length:")), 0)
        while len(rest) < length:
            rest += conn.recv(65536)
        path = url.path + (f"?{url.query}" if url.query else "")
        request = "\r\n".join([f"{method} {path} HTTP/1.1", *headers, "Connection: close", "", ""]).encode("latin-1") + rest
        upstream = socket.create_connection((_resolve(url.hostname or ""), url.port or 80))
        upstream.sendall(request)
        _pump(conn, upstream)


class TLSFront(_Server):
    """TLS in front of a plain HTTP server on loopback, with a certificate of a private CA for ``names``."""

    def __init__(self, backend_port: int, ca: trustme.CA, names: Sequence[str] = (HOST, "127.0.0.1"),
                 alpn: Sequence[str] = ()) -> None:
        self._backend_port = backend_port
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(*names).configure_cert(self._context)
        if alpn:
            self._context.set_alpn_protocols(list(alpn))
        #: The protocol each accepted handshake agreed on through ALPN (None: the client offered none).
        self.protocols: list[str | None] = []
        #: TLS handshakes that failed (the client refused the certificate).
        self.refused = 0
        self._refusal = threading.Condition()
        super().__init__()

    def wait_for_refusals(self, count: int, timeout: float = 10.0) -> None:
        """Until the front has seen ``count`` failed handshakes (AssertionError after ``timeout``)."""
        with self._refusal:
            assert self._refusal.wait_for(lambda: self.refused >= count, timeout), f"{self.refused} refusals"

    def _serve(self, conn: socket.socket) -> None:
        try:
            secure = self._context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()
            with self._refusal:
                self.refused += 1
                self._refusal.notify_all()
            return
        self.protocols.append(secure.selected_alpn_protocol())
        _pump(secure, socket.create_connection(("127.0.0.1", self._backend_port)))


class H2Server(_Server):
    """An HTTP/2-only server over TLS (ALPN ``h2``, a certificate of ``ca``) that answers every request with ``body``."""

    def __init__(self, ca: trustme.CA, body: bytes) -> None:
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(HOST, "127.0.0.1").configure_cert(self._context)
        self._context.set_alpn_protocols(["h2"])
        self._body = body
        #: Requests answered (one HTTP/2 stream each).
        self.streams = 0
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        import h2.config
        import h2.connection
        import h2.events

        try:
            secure = self._context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()
            return
        h2conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        h2conn.initiate_connection()
        with contextlib.suppress(OSError), secure:
            secure.sendall(h2conn.data_to_send())
            while data := secure.recv(65536):
                for event in h2conn.receive_data(data):
                    if isinstance(event, h2.events.DataReceived):
                        h2conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        self.streams += 1
                        h2conn.send_headers(event.stream_id, [(":status", "200"), ("content-type", "application/json"),
                                                              ("content-length", str(len(self._body)))])
                        h2conn.send_data(event.stream_id, self._body, end_stream=True)
                secure.sendall(h2conn.data_to_send())


@contextlib.contextmanager
def running(server: _Server) -> Iterator[_Server]:
    try:
        yield server
    finally:
        server.close()
