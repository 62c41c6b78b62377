"""A computer whose clock is off: the API refuses the signature as expired, the client reads the server's
``Date``, says how far off the clock is, and signs again with the corrected time, once (as AWS SDKs do).

Against the real emulator over loopback; the client's clock is injected (``clock=``), as the
official SDK's ``time`` was patched in ``test_auth.py``.
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime

import pytest

from zenlayer_widgets.api import AsyncZenlayerClient, Credentials, ZenlayerClient, errors

from .helpers import instance_id, signed_post

ZONE = "HKG-A"


def skewed(seconds: float):
    return lambda: time.time() + seconds


def key_pair(emulator) -> Credentials:
    return Credentials(emulator.access_key_id, emulator.access_key_password)


def test_the_emulator_sends_a_date_header_with_every_answer(emulator) -> None:
    for response in (signed_post(emulator, "DescribeZones"), signed_post(emulator, "DescribeZones", timestamp=1)):
        assert abs(parsedate_to_datetime(response.headers["date"]).timestamp() - time.time()) < 5
    assert response.json()["code"] == errors.AUTH_FAILURE_EXPIRED


@pytest.mark.parametrize("skew", [400, -1000, 86400 * 3])
def test_a_skewed_sync_client_corrects_its_clock_once_and_keeps_it(emulator, caplog, skew) -> None:
    caplog.set_level(logging.WARNING, logger="zenlayer_widgets.api")
    with ZenlayerClient(key_pair(emulator), base_url=emulator.url, timeout=5, clock=skewed(skew)) as client:
        assert len(client.describe_zones()) >= 5
        assert client.request_count == 2  # refused as expired, then re-signed
        assert abs(client.clock_offset + skew) < 2
        said = [r.getMessage() for r in caplog.records if "your clock is" in r.getMessage()]
        assert len(said) == 1 and f"your clock is {abs(skew)} s off" in said[0]
        assert ("ahead of" if skew > 0 else "behind") in said[0]
        client.describe_zones()
        assert client.request_count == 3  # the correction stays: no second refusal
        assert abs(client.to_async().clock_offset + skew) < 2


async def test_a_skewed_async_client_creates_exactly_one_image(emulator) -> None:
    """A write refused as expired did nothing, so signing it again is safe: one image, two requests."""
    build = instance_id(emulator, "build-hkg-01")
    async with AsyncZenlayerClient(key_pair(emulator), base_url=emulator.url, timeout=5, clock=skewed(-900)) as client:
        created = await client.create_image(build, "skewed-clock")
        assert client.request_count == 2
    named = [i.image_id for i in emulator.backend.images.values() if i.image_name == "skewed-clock"]
    assert named == [created.image_id]


def test_a_clock_within_the_window_is_left_alone(emulator) -> None:
    with ZenlayerClient(key_pair(emulator), base_url=emulator.url, timeout=5, clock=skewed(100)) as client:
        client.describe_zones()
        assert (client.request_count, client.clock_offset) == (1, 0.0)
