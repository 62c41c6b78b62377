"""Clock skew against servers that keep refusing: one re-signed retry at most, and a message that says why.

(The correction itself is tried against the real emulator in ``tests/emulator/test_clock_skew.py``.)
"""

from __future__ import annotations

import time
from email.utils import formatdate

import httpx
import pytest

from zenlayer_widgets.api import AuthError, errors


def expired(date: str | None):
    def reply(request: httpx.Request) -> httpx.Response:
        headers = {"date": date} if date else {}
        body = {"requestId": "T-EXP", "code": errors.AUTH_FAILURE_EXPIRED, "message": "X-ZC-Timestamp is out of the window."}
        return httpx.Response(401, json=body, headers=headers)

    return reply


async def test_a_server_that_refuses_again_gets_one_retry_and_a_clear_message(make_client, stub) -> None:
    client = make_client(stub.on("CreateImage", expired(formatdate(time.time() + 1000, usegmt=True))))
    with pytest.raises(AuthError) as caught:
        await client.create_image("i-1", "backup")
    assert stub.actions() == ["CreateImage", "CreateImage"]
    text = str(caught.value)
    assert "your clock is 1000 s off" in text and "behind" in text and "refused again" in text
    assert caught.value.code == errors.AUTH_FAILURE_EXPIRED and not caught.value.outcome_unknown


async def test_without_a_date_header_the_error_says_to_check_the_clock(make_client, stub) -> None:
    client = make_client(stub.on("DescribeZones", expired(None)))
    with pytest.raises(AuthError, match="no Date header") as caught:
        await client.describe_zones()
    assert stub.actions() == ["DescribeZones"] and "clock" in str(caught.value)


async def test_an_expired_refusal_with_a_clock_that_agrees_is_not_retried(make_client, stub) -> None:
    client = make_client(stub.on("DescribeZones", expired(formatdate(time.time(), usegmt=True))))
    with pytest.raises(AuthError, match="agrees with the server's Date"):
        await client.describe_zones()
    assert stub.actions() == ["DescribeZones"]
