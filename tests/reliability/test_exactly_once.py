"""Exactly one image per intent under lost answers, 5xx and throttling on CreateImage and on the lookup.

The emulator here lets two images share a name (as the real API may: uniqueness is undocumented),
so a blind resend after a lost answer really would make a second image; every CreateImage the
backend applied is logged, and every request our client sent too.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import replace

import pytest

from shared import ids_by_name
from zenlayer_widgets.api.errors import ZenlayerError
from zenlayer_widgets.core import reconcile
from zenlayer_widgets.core.create import CreateOutcomeUnknown, create_image_async, settle_intent_async, submit_image
from zenlayer_widgets.core.ledger import AVAILABLE_OUTCOME, NOT_MADE, UNKNOWN, Ledger
from zenlayer_widgets.emulator import start_emulator
from zenlayer_widgets.emulator.exceptions import EmulatorError

from .helpers import (
    FAST_RETRIES,
    RecordingTransport,
    allow_duplicate_names,
    async_client,
    blind_resends,
    custom_images_named,
    fast_sleep,
    log_creates,
)

SEED = 7_2025
INTENTS = 50
#: A rerun of the runbook cell after CreateOutcomeUnknown, at most this often per intent.
RERUNS = 6
FAULTS = [
    "CreateImage:lost_response:0.3",
    "CreateImage:error:0.15",
    "CreateImage:throttle:0.2",
    "DescribeImages:error:0.2",
    "DescribeImages:lost_response:0.1",
    "DescribeImages:throttle:0.1",
]
#: STOPPED demo instances in zones that take images (quota is kept free by deleting after each intent).
INSTANCES = ("build-hkg-01", "db-hkg-01", "game-tyo-02", "ci-nyc-01")
NAME_PARTS = ("nightly", "镜像", "golden", "备份", "base", "web")
#: Lookups are not retried inside the client either, so the reconcile itself fails now and then.
NO_TRANSIENT_RETRIES = replace(FAST_RETRIES, max_transient_retries=0)


#: The client's timeout here: the settle window is 2 x 0.5 s + the 0.2 s margin set below.
CLIENT_TIMEOUT = 0.5


def made_once_followed(backend) -> None:
    """An image is made (the clock jumps) only once a run follows it by id (the wait's DescribeImages): until
    then the instance is IMAGING, the evidence that the image is this intent's, however slow the lookups after
    a lost answer are (as on the real API, where an image takes minutes). With 0.2 s on the wall clock a slow
    lookup found the instance STOPPED again, and the image could not be adopted."""
    original = backend.describe_images

    def describe_images(zone_id, filters=None, *args, **kwargs):  # noqa: ANN001, ANN202
        if (filters or {}).get("imageIds"):
            backend.advance(3600)
        return original(zone_id, filters, *args, **kwargs)

    backend.describe_images = describe_images


@pytest.fixture
def faulty(monkeypatch):
    monkeypatch.setattr(reconcile, "RECONCILE_LOOKUPS", 2)  # a second failed lookup: outcome unknown
    monkeypatch.setattr(reconcile, "SETTLE_MARGIN_SECONDS", 0.2)
    with start_emulator(transition_seconds=3600, faults=FAULTS) as emulator:
        allow_duplicate_names(emulator.backend)
        made_once_followed(emulator.backend)
        yield emulator


async def test_seeded_fault_loop_makes_exactly_one_image_per_intent(faulty, ledger_url):
    rng = random.Random(SEED)
    backend, creates = faulty.backend, log_creates(faulty.backend)
    ledger = Ledger(ledger_url)  # on SQLite and on the real PostgreSQL server
    transport = RecordingTransport()
    ids = ids_by_name(faulty)
    tally = {"created": 0, "adopted": 0, "unknown_reruns": 0, "refused": 0, "unknown_settled": 0}
    started = time.monotonic()
    async with async_client(faulty, transport, policy=NO_TRANSIENT_RETRIES, timeout=CLIENT_TIMEOUT) as client:
        for intent in range(INTENTS):
            instance_id = ids[rng.choice(INSTANCES)]
            name = f"{rng.choice(NAME_PARTS)}-{intent:02d}-{rng.randrange(10**4)}"
            mark = transport.mark()
            result, final_error, unknown_error = None, None, None
            for _ in range(RERUNS):  # the operator re-runs the cell while the outcome is unknown
                try:
                    result = await create_image_async(
                        client, instance_id, name, f"intent {intent}", timeout=10, poll_interval=0.1,
                        sleep=fast_sleep, ledger=ledger)
                    break
                except CreateOutcomeUnknown as error:
                    unknown_error = error
                    tally["unknown_reruns"] += 1
                    assert len(creates.images_for(name)) <= 1
                except ZenlayerError as error:
                    final_error = error
                    break
            made = creates.images_for(name)
            assert len(made) <= 1, f"intent {intent} ({name}) made {len(made)} images"
            assert blind_resends(transport.log[mark:]) == [], transport.log[mark:]
            entry = ledger.entries()[-1] if ledger.entries() and ledger.entries()[-1].image_name == name else None
            if result is not None:
                assert made == [result.image_id] == custom_images_named(backend, name)
                assert (result.image_name, result.status) == (name, "AVAILABLE")
                assert result.zone_id == backend.instances[instance_id].zone_id
                assert entry is not None and entry.outcome == AVAILABLE_OUTCOME and entry.image_id == result.image_id
                tally["adopted" if result.adopted else "created"] += 1
            elif final_error is None:  # still unknown after every re-run: a clear error naming what it found
                unknown = unknown_error
                assert isinstance(unknown, CreateOutcomeUnknown) and "Look for it in" in str(unknown)
                assert {c.image_id for c in unknown.candidates} <= set(made), "only images that appeared are candidates"
                assert entry is not None and entry.outcome == UNKNOWN and entry.open
                if not made:
                    await asyncio.sleep(reconcile.settle_seconds(client))  # "send again" only once nothing can land
                settled = await settle_intent_async(client, instance_id, name, made[0] if made else None, ledger=ledger)
                assert not settled.open or settled.image_id == made[0]
                tally["unknown_settled"] += 1
            else:
                assert str(final_error), f"intent {intent}: no result and no clear error"
                assert made == [] and custom_images_named(backend, name) == [], f"{name}: {final_error!r}"
                assert entry is None or entry.outcome == NOT_MADE  # nothing sent, or sent and proven not made
                tally["refused"] += 1
            backend.advance(3600)  # CREATING -> AVAILABLE (an image no run followed), then free the quota slot
            if made:
                backend.delete_images(made)
            if ledger.open_intent(client.base_url, instance_id, name) is not None:  # an adopted image still followed
                ledger.record(ledger.open_intent(client.base_url, instance_id, name).intent_id, "gone",
                               account=client.base_url)
    assert time.monotonic() - started < 60
    assert sum(tally.values()) - tally["unknown_reruns"] == INTENTS
    print(tally)
    assert tally["adopted"] >= 3 and tally["created"] >= 10, tally  # lost answers were met and reconciled
    assert not any(entry.open for entry in ledger.entries()), "every intent ends with a final outcome"


async def test_a_blind_resend_would_be_caught(faulty):
    """The loop's checks can fail: resending after a lost answer makes a second image here."""
    faulty.set_faults(["CreateImage:lost_response:1"])
    creates = log_creates(faulty.backend)
    build = ids_by_name(faulty)["build-hkg-01"]
    transport = RecordingTransport()
    async with async_client(faulty, transport) as client:
        for _ in range(2):
            with pytest.raises(ZenlayerError):
                await client.create_image(build, "resent")
            faulty.backend.advance(3600)  # the instance is STOPPED again
    assert len(creates.images_for("resent")) == 2
    assert blind_resends(transport.log) == [1]


async def test_failed_lookups_end_in_outcome_unknown_never_a_resend(faulty, ledger_url):
    """The create was applied, its answer lost, and every lookup fails: CreateOutcomeUnknown after two
    lookups, one CreateImage sent; the next run (lookups working again) adopts that image."""
    backend = faulty.backend
    faulty.set_faults(["CreateImage:lost_response:1"])
    creates = log_creates(backend)
    describe = backend.describe_images
    broken = {"on": False}

    def describe_images(*args, **kwargs):  # noqa: ANN202
        if broken["on"]:
            raise EmulatorError(500, "INTERNAL_SERVER_ERROR", "lookup down")
        return describe(*args, **kwargs)

    backend.describe_images = describe_images
    original_create = backend.create_image

    def create_then_break_lookups(*args, **kwargs):  # noqa: ANN202
        image = original_create(*args, **kwargs)
        broken["on"] = True
        return image

    backend.create_image = create_then_break_lookups
    ledger = Ledger(ledger_url)  # on SQLite and on the real PostgreSQL server
    transport = RecordingTransport()
    build = ids_by_name(faulty)["build-hkg-01"]
    async with async_client(faulty, transport) as client:
        with pytest.raises(CreateOutcomeUnknown, match="Look for it in HKG-A before trying again"):
            await create_image_async(client, build, "lookup-down", sleep=fast_sleep, ledger=ledger)
        assert [a for a, _ in transport.log].count("CreateImage") == 1
        assert [a for a, s in transport.log if a == "DescribeImages" and s == 500]  # the lookups were tried
        assert ledger.entries()[-1].outcome == UNKNOWN and ledger.entries()[-1].open
        broken["on"] = False
        faulty.set_faults([])
        result = await create_image_async(client, build, "lookup-down", sleep=fast_sleep, poll_interval=0.1, ledger=ledger)
    assert result.adopted and result.status == "AVAILABLE"
    assert creates.images_for("lookup-down") == [result.image_id]
    assert [a for a, _ in transport.log].count("CreateImage") == 1
    assert [e.outcome for e in ledger.entries()] == [AVAILABLE_OUTCOME]


async def test_connect_error_means_nothing_sent_and_is_sent_again_without_a_lookup(faulty):
    creates = log_creates(faulty.backend)
    transport = RecordingTransport()
    transport.fail_connects["CreateImage"] = 3  # the client's own connect retries (2), then submit_image's
    instance = None
    async with async_client(faulty, transport) as client:
        page = await client.describe_instances(instance_ids=[ids_by_name(faulty)["game-tyo-02"]])
        instance = page.items[0]
        mark = transport.mark()
        progress = await submit_image(client, instance, "after-refusal", sleep=fast_sleep)
    sent = transport.log[mark:]
    assert sent[0][0] == "DescribeImages"  # the zone's snapshot, taken before anything is sent
    assert [action for action, _ in sent[1:]] == ["CreateImage"] * 4 and sent[-1][1] == 200  # no lookup between
    assert creates.images_for("after-refusal") == [progress.image_id] and not progress.adopted


async def test_the_form_reconciles_a_lost_answer_too(faulty):
    """StudioController.submit goes through the same journaled create: one image, adopted."""
    from zenlayer_widgets.studio.controller import StudioController

    faulty.set_faults(["CreateImage:lost_response:1"])
    creates = log_creates(faulty.backend)
    async with async_client(faulty) as client:
        controller = StudioController(client, poll_interval=0.1, sleep=fast_sleep)
        await controller.refresh()
        controller.select(ids_by_name(faulty)["db-hkg-01"])
        controller.set_name("from-the-form")
        progress = await controller.submit()
        controller.close()
    assert progress is not None and progress.adopted and progress.status == "AVAILABLE"
    assert creates.images_for("from-the-form") == [progress.image_id]
