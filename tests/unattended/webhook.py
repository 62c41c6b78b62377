"""A loopback HTTP server that keeps what Apprise's ``json://`` posts to it (one JSON object per alert)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Webhook:
    """``url`` is the Apprise URL (``json://127.0.0.1:<port>/alerts``); ``received`` the posted bodies, in order."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.arrived = threading.Condition()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8", "replace")
                with hook.arrived:
                    hook.raw.append(body)
                    hook.received.append(json.loads(body))
                    hook.arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/alerts"

    def wait_for(self, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """The first ``count`` alerts, waiting up to ``timeout`` seconds (AssertionError naming what came)."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count and time.monotonic() < deadline:
                self.arrived.wait(deadline - time.monotonic())
            assert len(self.received) >= count, f"{len(self.received)} alert(s) within {timeout} s: {self.received}"
            return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
