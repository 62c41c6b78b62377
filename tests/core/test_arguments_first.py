"""Every public function that sends something checks its arguments first: a bad one is a clear
``BadArgument`` (ValueError) or ``BadArgumentType`` (TypeError), both ``ZenlayerError``, naming the
parameter, and **0 requests** reach the emulator (counted at its request pipeline)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

import zenlayer_widgets as zw
from shared import credentials_for, ids_by_name
from zenlayer_widgets.api.errors import ZenlayerError
from zenlayer_widgets.core.arguments import BadArgument, BadArgumentType
from zenlayer_widgets.core.ledger import Ledger
from zenlayer_widgets.core.progress import ImageProgress

HUGE = "n" * 10_000_000  # 10 MB


@pytest.fixture
def bodies(request: pytest.FixtureRequest) -> Iterator[list[bytes]]:
    """The body of every request the test's emulator receives, in order: ``mock_emulator`` (in this process) when
    the test asks for it, else the ``emulator`` server (zw.connect sends over a socket of its own)."""
    emulator = request.getfixturevalue("mock_emulator" if "mock_emulator" in request.fixturenames else "emulator")
    seen: list[bytes] = []
    handle = emulator.pipeline.handle

    def counting(request):  # noqa: ANN001, ANN202
        seen.append(bytes(request.body))
        return handle(request)

    emulator.pipeline.handle = counting
    yield seen
    emulator.pipeline.handle = handle


def image_of(emulator) -> str:
    return next(i.image_id for i in emulator.backend.images.values() if i.image_type == "CUSTOM_IMAGE")


def submitted(ids: dict[str, str]) -> ImageProgress:
    return ImageProgress("submitted", ids["build-hkg-01"], "HKG-A", "made", image_id="img-1", status="CREATING")


Call = Callable[[Any, dict[str, str], str], Any]
BUILD = "build-hkg-01"


def policy(ids: dict[str, str]) -> zw.Policy:
    return zw.Policy("nightly", instance_ids=(ids[BUILD],))


def images_table(image: str) -> pd.DataFrame:
    return pd.DataFrame({"image_id": [image], "name": ["web-golden-2025"]})
CASES: list[Any] = [
    pytest.param(lambda c, i, img: zw.create_image(c, i[BUILD], "ok-1", timeout="10"), BadArgumentType, "timeout",
                 id="create-timeout-text"),
    pytest.param(lambda c, i, img: zw.create_image(c, i[BUILD], "ok-1", timeout=-1), BadArgument, "timeout",
                 id="create-timeout-negative"),
    pytest.param(lambda c, i, img: zw.create_image(c, i[BUILD], "ok-1", timeout=math.nan), BadArgument, "timeout",
                 id="create-timeout-nan"),
    pytest.param(lambda c, i, img: zw.create_image(c, i[BUILD], "ok-1", timeout=math.inf), BadArgument, "timeout",
                 id="create-timeout-inf"),
    pytest.param(lambda c, i, img: zw.create_image(c, i[BUILD], "ok-1", poll_interval=0), BadArgument, "poll_interval",
                 id="create-poll-zero"),
    pytest.param(lambda c, i, img: zw.create_image(c, i[BUILD], "ok-1", poll_interval=0.05), BadArgument,
                 "poll_interval", id="create-poll-too-short"),
    pytest.param(lambda c, i, img: zw.create_image(c, i[BUILD], "ok-1", power_timeout=0), BadArgument, "power_timeout",
                 id="create-power-timeout"),
    pytest.param(lambda c, i, img: zw.create_image(c, i[BUILD], "ok-1", stop_if_running="no"), BadArgumentType,
                 "stop_if_running", id="create-flag-text"),
    pytest.param(lambda c, i, img: zw.create_image(c, i[BUILD], "ok-1", wait=1), BadArgumentType, "wait",
                 id="create-wait-int"),
    pytest.param(lambda c, i, img: zw.create_image(c, i[BUILD], "ok-1", on_progress="print"), BadArgumentType,
                 "on_progress", id="create-callback"),
    pytest.param(lambda c, i, img: zw.wait_for_image(c, submitted(i), timeout=-1), BadArgument, "timeout",
                 id="wait-timeout"),
    pytest.param(lambda c, i, img: zw.wait_for_image(c, submitted(i), poll_interval=0), BadArgument, "poll_interval",
                 id="wait-poll"),
    pytest.param(lambda c, i, img: zw.wait_for_image(c, "img-1"), BadArgumentType, "progress", id="wait-progress"),
    pytest.param(lambda c, i, img: zw.stop_instance(c, ""), BadArgument, "instance_id", id="stop-empty-id"),
    pytest.param(lambda c, i, img: zw.stop_instance(c, i["web-hkg-01"], timeout="600"), BadArgumentType, "timeout",
                 id="stop-timeout"),
    pytest.param(lambda c, i, img: zw.stop_instance(c, i["web-hkg-01"], poll_interval=0), BadArgument,
                 "poll_interval", id="stop-poll"),
    pytest.param(lambda c, i, img: zw.wait_for_power_state(c, i[BUILD], "STOPPED", timeout=math.nan), BadArgument,
                 "timeout", id="power-timeout"),
    pytest.param(lambda c, i, img: zw.wait_for_power_state(c, i[BUILD], "STOPPED", poll_interval=0), BadArgument,
                 "poll_interval", id="power-poll"),
    pytest.param(lambda c, i, img: zw.restart(c, i[BUILD], timeout=-5), BadArgument, "timeout", id="restart-timeout"),
    pytest.param(lambda c, i, img: zw.start_instance(c, None), BadArgumentType, "instance_id", id="start-none"),
    pytest.param(lambda c, i, img: zw.delete_image(c, ""), BadArgument, "image_id", id="delete-empty"),
    pytest.param(lambda c, i, img: zw.delete_image(c, 5), BadArgumentType, "image_id", id="delete-int"),
    pytest.param(lambda c, i, img: zw.rename_image(c, img, "bad name!"), BadArgument, "new_name", id="rename-rule"),
    pytest.param(lambda c, i, img: zw.rename_image(c, img, HUGE), BadArgument, "new_name", id="rename-10mb"),
    pytest.param(lambda c, i, img: zw.settle_intent(c, i[BUILD], "made", image_id=""), BadArgument, "image_id",
                 id="settle-empty-image"),
    pytest.param(lambda c, i, img: zw.settle_intent(c, "", "made", None), BadArgument, "instance_id",
                 id="settle-empty-instance"),
    pytest.param(lambda c, i, img: zw.load_inventory(c, image_type=5), BadArgumentType, "image_type",
                 id="inventory-type"),
    pytest.param(lambda c, i, img: zw.load_inventory(c, previous="last"), BadArgumentType, "previous",
                 id="inventory-previous"),
    # rotation: the policy, the ledger, the numbers and callbacks, before any lookup or create
    pytest.param(lambda c, i, img: zw.Policy("nightly", keep=7, instance_ids=(i[BUILD],)), BadArgument, "keep",
                 id="policy-keep-above-quota"),
    pytest.param(lambda c, i, img: zw.plan_rotation(c, "nightly"), BadArgumentType, "policy", id="plan-policy-text"),
    pytest.param(lambda c, i, img: zw.plan_rotation(c, policy(i), "prod.sqlite3"), BadArgumentType, "ledger",
                 id="plan-ledger-text"),
    pytest.param(lambda c, i, img: zw.apply_rotation(c, {"name_prefix": "nightly"}), BadArgumentType, "policy",
                 id="apply-policy-dict"),
    pytest.param(lambda c, i, img: zw.apply_rotation(c, policy(i), ":memory:"), BadArgumentType, "ledger",
                 id="apply-ledger-text"),
    pytest.param(lambda c, i, img: zw.apply_rotation(c, policy(i), poll_interval=0.05), BadArgument, "poll_interval",
                 id="apply-poll-too-short"),
    pytest.param(lambda c, i, img: zw.apply_rotation(c, policy(i), poll_interval=math.nan), BadArgument,
                 "poll_interval", id="apply-poll-nan"),
    pytest.param(lambda c, i, img: zw.apply_rotation(c, policy(i), max_parallel=0), BadArgument, "max_parallel",
                 id="apply-parallel-zero"),
    pytest.param(lambda c, i, img: zw.apply_rotation(c, policy(i), max_parallel=2.5), BadArgumentType, "max_parallel",
                 id="apply-parallel-float"),
    pytest.param(lambda c, i, img: zw.apply_rotation(c, policy(i), on_step="print"), BadArgumentType, "on_step",
                 id="apply-on-step"),
    pytest.param(lambda c, i, img: zw.apply_rotation(c, policy(i), plan="yesterday"), BadArgumentType, "plan",
                 id="apply-plan-text"),
    pytest.param(lambda c, i, img: zw.pin_image(c, img, reason="golden", ledger="prod.sqlite3"), BadArgumentType,
                 "ledger", id="pin-ledger-text"),
    pytest.param(lambda c, i, img: zw.pin_image(c, img, reason=" "), BadArgument, "reason", id="pin-reason-blank"),
    pytest.param(lambda c, i, img: zw.unpin_image(c, img, ledger=5), BadArgumentType, "ledger", id="unpin-ledger"),
    pytest.param(lambda c, i, img: zw.mark_policy_images(None, Ledger(None), "acct"), BadArgumentType, "images",
                 id="mark-images-none"),
    pytest.param(lambda c, i, img: zw.mark_policy_images(pd.DataFrame({"id": [img]}), Ledger(None), "acct"),
                 BadArgument, "images", id="mark-images-columns"),
    pytest.param(lambda c, i, img: zw.mark_policy_images(images_table(img), "ledger.sqlite3", "acct"),
                 BadArgumentType, "ledger", id="mark-ledger-text"),
    pytest.param(lambda c, i, img: zw.mark_policy_images(images_table(img), Ledger(None), 5), BadArgumentType,
                 "account", id="mark-account-int"),
    pytest.param(lambda c, i, img: zw.mark_policy_images(images_table(img), Ledger(None), "acct", now="2026-12-01"),
                 BadArgumentType, "now", id="mark-now-text"),
]


@pytest.mark.parametrize(("call", "error", "parameter"), CASES)
def test_a_bad_argument_is_refused_before_anything_is_sent(mock_emulator, mock_client, bodies, call: Call, error, parameter):
    ids, image = ids_by_name(mock_emulator), image_of(mock_emulator)
    images_before = dict(mock_emulator.backend.images)
    bodies.clear()
    with pytest.raises(error) as caught:
        call(mock_client, ids, image)
    assert isinstance(caught.value, ZenlayerError) and parameter in str(caught.value)
    assert bodies == []  # 0 requests reached the mock_emulator
    assert dict(mock_emulator.backend.images) == images_before


@pytest.mark.parametrize("timeout", [math.nan, "10", -1, 0])
def test_connect_refuses_a_bad_timeout_at_once(emulator, bodies, timeout):
    with pytest.raises((BadArgument, BadArgumentType), match="timeout"):
        zw.connect(credentials_for(emulator), base_url=emulator.url, timeout=timeout)
    assert bodies == []


def test_preflight_never_sends_a_name_that_breaks_the_rule(mock_emulator, mock_client, bodies):
    """A 10 MB name: the verdict says why, and no request carries the name (it is not even looked up)."""
    build = ids_by_name(mock_emulator)["build-hkg-01"]
    checks = zw.preflight(mock_client, build, HUGE)
    assert not checks.ok and [c.key for c in checks.failures] == ["name"]
    assert bodies and not any(HUGE[:1000].encode() in body for body in bodies)
    bodies.clear()
    with pytest.raises(zw.PreflightFailed, match="Image name"):
        zw.create_image(mock_client, build, HUGE)
    assert not any(HUGE[:1000].encode() in body for body in bodies)
    assert HUGE not in {i.image_name for i in mock_emulator.backend.images.values()}


@pytest.mark.parametrize(("name", "description", "failing"), [
    pytest.param("bad name!", None, ["name"], id="name-rule"),
    pytest.param(HUGE, None, ["name"], id="name-10mb"),
    pytest.param("", None, ["name"], id="name-empty"),
    pytest.param("ok-1", "d" * 10_000, ["description"], id="description-rule"),
])
def test_create_image_refuses_a_name_breaking_the_rule_before_anything_is_sent(mock_emulator, mock_client, bodies, name,
                                                                             description, failing):
    """The local rules come first: PreflightFailed naming the rule, and not even the instance is looked up."""
    build = ids_by_name(mock_emulator)[BUILD]
    images_before = dict(mock_emulator.backend.images)
    bodies.clear()
    with pytest.raises(zw.PreflightFailed) as refused:
        zw.create_image(mock_client, build, name, description)
    assert [c.key for c in refused.value.preflight.failures] == failing
    assert bodies == []  # 0 requests reached the mock_emulator
    assert dict(mock_emulator.backend.images) == images_before
