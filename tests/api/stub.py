"""A scripted Zenlayer API behind ``httpx.MockTransport``, and both clients behind one interface."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import httpx

from zenlayer_widgets.api import AsyncZenlayerClient, ZenlayerClient

KEY_ID = "AKID-TEST-0001"
PASSWORD = "pw-Sup3rS3cret-do-not-leak"
TOKEN = "tok-Sup3rS3cret-bearer-do-not-leak"
BASE_URL = "https://api.test:8443"

Reply = Callable[[httpx.Request], httpx.Response]


def body_of(request: httpx.Request) -> dict[str, Any]:
    return json.loads(request.content)


def ok(**inner: Any) -> Reply:
    """A success envelope ``{requestId, response: {requestId, **inner}}``."""

    def reply(request: httpx.Request) -> httpx.Response:
        request_id = f"T-{request.headers['x-zc-action']}-OK"
        return httpx.Response(200, json={"requestId": request_id, "response": {"requestId": request_id, **inner}})

    return reply


def fail(status: int, code: str, message: str = "refused", request_id: str = "T-ERR-1") -> Reply:
    """A flat error body ``{requestId, code, message}``."""
    return lambda request: httpx.Response(status, json={"requestId": request_id, "code": code, "message": message})


def raw(status: int, content: bytes | str, content_type: str | None = "text/html", headers: dict[str, str] | None = None) -> Reply:
    """Any body with any content type (gateways, proxies, WAFs)."""
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers["content-type"] = content_type
    data = content.encode() if isinstance(content, str) else content
    return lambda request: httpx.Response(status, content=data, headers=all_headers)


def boom(exc_type: type[httpx.HTTPError], text: str = "simulated") -> Reply:
    """Raise an httpx transport error instead of answering."""

    def reply(request: httpx.Request) -> httpx.Response:
        raise exc_type(text, request=request)

    return reply


def paged(records: list[dict[str, Any]], total: int | None = None) -> Reply:
    """DescribeX pages over ``records``, honouring pageNum / pageSize and an optional id filter."""

    def reply(request: httpx.Request) -> httpx.Response:
        body = body_of(request)
        rows = records
        for key, field in (("instanceIds", "instanceId"), ("imageIds", "imageId")):
            if key in body:
                rows = [row for row in rows if row[field] in body[key]]
        start = (body.get("pageNum", 1) - 1) * body.get("pageSize", 20)
        inner = {"dataSet": rows[start : start + body.get("pageSize", 20)], "totalCount": len(rows) if total is None else total}
        return ok(**inner)(request)

    return reply


class Stub:
    """Replies per ``X-ZC-Action``, in order (the last one repeats); records every request it gets."""

    def __init__(self) -> None:
        self.replies: dict[str, list[Reply]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, action: str, *replies: Reply) -> Stub:
        self.replies[action] = list(replies)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.replies.get(request.headers["x-zc-action"])
        if not queue:
            return fail(400, "INVALID_ACTION", "no reply scripted")(request)
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return reply(request)

    def actions(self) -> list[str]:
        return [request.headers["x-zc-action"] for request in self.requests]

    def bodies(self, action: str | None = None) -> list[dict[str, Any]]:
        return [body_of(r) for r in self.requests if action is None or r.headers["x-zc-action"] == action]


class Either:
    """One interface over both clients: every method is awaited, attributes pass through."""

    def __init__(self, client: ZenlayerClient | AsyncZenlayerClient, sleeps: list[float]) -> None:
        self.client = client
        self.sleeps = sleeps

    @property
    def is_async(self) -> bool:
        return isinstance(self.client, AsyncZenlayerClient)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)
        if not callable(attribute):
            return attribute

        async def method(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return method


