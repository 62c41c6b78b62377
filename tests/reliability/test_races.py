"""The races a real API produces, against both emulator modes (names unique per zone, or repeatable).

Each test ends with exactly one image per intent, and from every run either that image or a clear
error. The client's timeout is short here (0.5 s) and so is the settle margin (0.3 s): the settle
window is 2 x 0.5 + 0.3 = 1.3 s, and a ``late`` request lands 0.8 s after its connection dropped.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from shared import ids_by_name
from zenlayer_widgets.core import reconcile
from zenlayer_widgets.core.create import (
    CreateOutcomeUnknown,
    IntentConflict,
    PreflightFailed,
    create_image_async,
    settle_intent_async,
)
from zenlayer_widgets.core.ledger import NOT_MADE, UNKNOWN, Ledger
from zenlayer_widgets.emulator import start_emulator

from .helpers import RecordingTransport, async_client, custom_images_named, fast_sleep

CLIENT_TIMEOUT = 0.5
LATE_SECONDS = 0.8
MODES = ["names-unique", "names-repeatable"]
#: Descriptions keep every separator the rules let through (U+2028/U+2029 split 0.1's journal lines).
SEPARATED = "first\u2028second\u2029third\tfourth\nfifth"


@pytest.fixture(autouse=True)
def short_settle(monkeypatch):
    monkeypatch.setattr(reconcile, "SETTLE_MARGIN_SECONDS", 0.3)


@pytest.fixture(params=MODES)
def mode(request) -> str:
    return request.param


def emulator_for(mode: str, **options):
    """Images take a minute (the instance stays IMAGING, as on the real API, while a run reconciles)."""
    options.setdefault("transition_seconds", 60)
    return start_emulator(allow_duplicate_names=mode == "names-repeatable", late_seconds=LATE_SECONDS, **options)


def creates_sent(transport: RecordingTransport) -> int:
    return [action for action, _ in transport.log].count("CreateImage")


class LostBeforeArrival(RecordingTransport):
    """CreateImage times out on the client without ever reaching the server (it will never land);
    ``meanwhile`` runs first (a colleague acting while our answer is awaited)."""

    def __init__(self, meanwhile=None) -> None:  # noqa: ANN001
        super().__init__()
        self.meanwhile = meanwhile
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-zc-action") == "CreateImage" and self.lost == 0:
            self.lost += 1
            self.log.append(("CreateImage", "ReadTimeout"))
            if self.meanwhile is not None:
                await self.meanwhile()
            raise httpx.ReadTimeout("timed out (injected; the request never arrived)", request=request)
        return await super().handle_async_request(request)


# ---------------------------------------------------------------------------------------- late landing

async def test_a_late_landing_is_waited_for_and_adopted_never_resent(mode, tmp_path):
    with emulator_for(mode, faults=["CreateImage:late:1"]) as emulator:
        ledger, transport = Ledger(tmp_path / "ledger.sqlite3"), RecordingTransport()
        async with async_client(emulator, transport, timeout=CLIENT_TIMEOUT) as client:
            result = await create_image_async(client, ids_by_name(emulator)["build-hkg-01"], "landed-late", SEPARATED,
                                              wait=False, sleep=fast_sleep, ledger=ledger)
        emulator.backend.land_late_requests()
        images = custom_images_named(emulator.backend, "landed-late")
    assert creates_sent(transport) == 1  # the one empty lookup right after the drop was not taken as proof
    assert result.adopted and images == [result.image_id]
    [entry] = ledger.entries()
    assert entry.image_id == result.image_id and entry.description == SEPARATED and entry.evidence["seen_imaging"]


async def test_without_the_settle_window_a_late_landing_would_make_a_second_image(tmp_path, monkeypatch):
    """The control: trust the first empty lookup (no settle window) and the resends make more images, once
    each landed image is done (instant images here, so the disk is free when the next request lands)."""
    monkeypatch.setattr(reconcile, "SETTLE_FACTOR", 0.0)
    monkeypatch.setattr(reconcile, "SETTLE_MARGIN_SECONDS", 0.0)
    with emulator_for("names-repeatable", faults=["CreateImage:late:1"], transition_seconds=0) as emulator:
        async with async_client(emulator, RecordingTransport(), timeout=CLIENT_TIMEOUT) as client:
            with pytest.raises(Exception):  # noqa: B017 - whatever it ends with, the images below are the point
                await create_image_async(client, ids_by_name(emulator)["build-hkg-01"], "twice", wait=False,
                                         sleep=fast_sleep, ledger=Ledger(tmp_path / "ledger.sqlite3"))
        emulator.backend.land_late_requests()
        assert len(custom_images_named(emulator.backend, "twice")) > 1


# ------------------------------------------------------------------------------------ Ctrl-C, re-run

async def test_ctrl_c_while_the_request_is_on_its_way_then_a_rerun_adopts_it(mode, tmp_path):
    with emulator_for(mode, faults=["CreateImage:late:1"]) as emulator:
        ledger, transport = Ledger(tmp_path / "ledger.sqlite3"), RecordingTransport()
        build = ids_by_name(emulator)["build-hkg-01"]
        async with async_client(emulator, transport, timeout=CLIENT_TIMEOUT) as client:
            run = asyncio.ensure_future(create_image_async(client, build, "interrupted", wait=False, sleep=fast_sleep,
                                                           ledger=ledger))
            while creates_sent(transport) == 0:
                await asyncio.sleep(0.005)
            run.cancel()  # what an interrupted cell does to the coroutine
            with pytest.raises(asyncio.CancelledError):
                await run
            [left] = ledger.entries()
            assert (left.outcome, left.open, left.error) == (UNKNOWN, True, {"type": "CancelledError"})
            result = await create_image_async(client, build, "interrupted", wait=False, sleep=fast_sleep, ledger=ledger)
        emulator.backend.land_late_requests()
        images = custom_images_named(emulator.backend, "interrupted")
    assert creates_sent(transport) == 1 and result.adopted and images == [result.image_id]


# --------------------------------------------------------------------------- a colleague's image

async def test_a_colleagues_same_named_image_is_never_adopted_with_our_own_ledger(mode, tmp_path):
    """Our request never arrived; meanwhile a colleague (not on our ledger) made the same name and
    description from another instance. It fits and it is new, but our instance never imaged: unknown."""
    with emulator_for(mode) as emulator:
        ids = ids_by_name(emulator)
        colleague = {}

        async def colleague_creates() -> None:
            colleague["image"] = emulator.backend.create_image(ids["build-hkg-01"], "shared-name", SEPARATED)

        ledger, transport = Ledger(tmp_path / "ledger.sqlite3"), LostBeforeArrival(colleague_creates)
        async with async_client(emulator, transport, timeout=CLIENT_TIMEOUT) as client:
            for _ in range(2):  # the first run, then a re-run: the same truthful answer
                with pytest.raises(CreateOutcomeUnknown) as unknown:
                    await create_image_async(client, ids["db-hkg-01"], "shared-name", SEPARATED, wait=False,
                                             sleep=fast_sleep, ledger=ledger)
                assert [c.image_id for c in unknown.value.candidates] == [colleague["image"].image_id]
                assert colleague["image"].image_id in str(unknown.value) and "settle_intent" in str(unknown.value)
            [entry] = ledger.entries()
            assert (entry.outcome, entry.open, entry.image_id) == (UNKNOWN, True, None)
            settled = await settle_intent_async(client, ids["db-hkg-01"], "shared-name", None, ledger=ledger)  # "not mine"
            assert settled.outcome == NOT_MADE
            with pytest.raises(PreflightFailed, match="already has an image named 'shared-name'"):
                await create_image_async(client, ids["db-hkg-01"], "shared-name", SEPARATED, sleep=fast_sleep, ledger=ledger)
        assert custom_images_named(emulator.backend, "shared-name") == [colleague["image"].image_id]
    assert creates_sent(transport) == 1


async def test_the_form_says_unknown_checks_again_and_sends_again_only_once_sure(tmp_path, monkeypatch):
    """The studio after the colleague race: the error names the candidate, "check again" sends nothing,
    "send again" (none is mine) closes the intent and goes through preflight, which refuses the name."""
    from zenlayer_widgets.studio.controller import StudioController

    monkeypatch.setenv("ZENLAYER_JOURNAL", str(tmp_path / "ledger.sqlite3"))
    with emulator_for("names-repeatable") as emulator:
        ids = ids_by_name(emulator)

        async def colleague_creates() -> None:
            emulator.backend.create_image(ids["build-hkg-01"], "form-race")

        transport = LostBeforeArrival(colleague_creates)
        async with async_client(emulator, transport, timeout=CLIENT_TIMEOUT) as client:
            controller = StudioController(client, poll_interval=0.1, sleep=fast_sleep)
            await controller.refresh()
            controller.select(ids["db-hkg-01"])
            controller.set_name("form-race")
            assert await controller.submit() is None
            assert controller.unknown is not None and "Look for it in HKG-A" in controller.error.headline
            assert [c.image_name for c in controller.unknown.candidates] == ["form-race"]
            assert not controller.can_submit  # the name is taken now: only the two buttons below
            assert await controller.check_again() is None and controller.unknown is not None
            assert controller.can_send_again  # the settle window is over
            assert await controller.send_again() is None
            assert controller.unknown is None and "already has an image named 'form-race'" in controller.error.headline
            controller.close()
        [entry] = Ledger(tmp_path / "ledger.sqlite3").entries()
        assert entry.outcome == NOT_MADE and len(custom_images_named(emulator.backend, "form-race")) == 1
    assert creates_sent(transport) == 1


async def test_a_colleague_on_the_shared_ledger_is_told_about_our_create_and_sends_nothing(mode, ledger_url):
    with emulator_for(mode) as emulator:
        ids = ids_by_name(emulator)
        ours, theirs = Ledger(ledger_url), Ledger(ledger_url)  # two kernels, one ledger (SQLite file or PostgreSQL)
        colleague_transport, told = RecordingTransport(), {}

        async def colleague_tries() -> None:
            async with async_client(emulator, colleague_transport, timeout=CLIENT_TIMEOUT) as colleague:
                try:
                    await create_image_async(colleague, ids["build-hkg-01"], "team-image", wait=False, sleep=fast_sleep,
                                             ledger=theirs)
                except IntentConflict as error:
                    told["error"] = error

        transport = LostBeforeArrival(colleague_tries)
        async with async_client(emulator, transport, timeout=CLIENT_TIMEOUT) as client:
            result = await create_image_async(client, ids["db-hkg-01"], "team-image", wait=False, sleep=fast_sleep,
                                              ledger=ours)
        images = custom_images_named(emulator.backend, "team-image")
    assert "error" in told and f"from instance {ids['db-hkg-01']}" in str(told["error"]) and "Nothing was sent" in str(told["error"])
    assert creates_sent(colleague_transport) == 0
    assert creates_sent(transport) == 2 and not result.adopted and images == [result.image_id]  # resent once settled
    assert [e.outcome for e in theirs.entries()] == ["submitted"]


# --------------------------------------------------------------------- two kernels, two processes

KERNEL = """
import json, sys
import zenlayer_widgets as zw
try:
    result = zw.create_image(zw.connect(), sys.argv[1], sys.argv[2], sys.argv[3], poll_interval=0.1)
    print(json.dumps({"image_id": result.image_id, "adopted": result.adopted, "status": result.status}))
except Exception as error:
    print(json.dumps({"error": type(error).__name__, "message": str(error)}))
"""


def run_env(emulator, ledger_url: str, home: Path) -> dict[str, str]:
    """What a real-account kernel sees: a key pair, the endpoint, the shared ledger, an empty HOME."""
    return {**os.environ, "ZENLAYER_ACCESS_KEY_ID": emulator.access_key_id,
            "ZENLAYER_ACCESS_KEY_PASSWORD": emulator.access_key_password, "ZENLAYER_BASE_URL": emulator.url,
            "ZENLAYER_JOURNAL": ledger_url, "HOME": str(home)}


def test_two_kernels_on_one_ledger_at_once_make_one_image(mode, ledger_url, tmp_path):
    with emulator_for(mode, transition_seconds=1.5, latency_ms=150) as emulator:
        build = ids_by_name(emulator)["build-hkg-01"]
        env = run_env(emulator, ledger_url, tmp_path)
        kernels = [subprocess.Popen([sys.executable, "-c", KERNEL, build, "two-kernels", SEPARATED], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [k.communicate(timeout=120) for k in kernels]
        images = custom_images_named(emulator.backend, "two-kernels")
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert len(images) == 1, (results, [err[-1500:] for _, err in outputs])
    for result in results:  # the image, or a clear error naming the create that holds it
        if "image_id" in result:
            assert result["image_id"] == images[0] and result["status"] == "AVAILABLE"
        else:
            assert result["error"] in ("IntentConflict", "PreflightFailed") and "two-kernels" in result["message"], result
    assert any("image_id" in r and not r["adopted"] for r in results)


# ----------------------------------------------------------------------- SIGKILL at every step

class HoldAt:
    """Block the emulator at one step of a create (its loop stops answering) until ``release()``."""

    def __init__(self, backend, step: str) -> None:  # noqa: ANN001
        self.reached, self._release = threading.Event(), threading.Event()
        name, when, wanted = {
            "preflight": ("describe_instances", "before", None),
            "snapshot": ("describe_images", "before", lambda filters: "imageName" not in filters and not filters.get("imageIds")),
            "create-on-its-way": ("create_image", "before", None),
            "create-applied": ("create_image", "after", None),
            "waiting": ("describe_images", "before", lambda filters: bool(filters.get("imageIds"))),
        }[step]
        original = getattr(backend, name)

        def held(*args, **kwargs):  # noqa: ANN202
            hit = not self.reached.is_set() and (wanted is None or wanted((args[1] if len(args) > 1 else kwargs.get("filters")) or {}))
            if hit and when == "before":
                self._hold()
            result = original(*args, **kwargs)
            if hit and when == "after":
                self._hold()
            return result

        setattr(backend, name, held)

    def _hold(self) -> None:
        self.reached.set()
        self._release.wait(60)

    def release(self) -> None:
        self._release.set()


STEPS = ["preflight", "snapshot", "create-on-its-way", "create-applied", "waiting"]


@pytest.mark.parametrize("step", STEPS)
async def test_sigkill_at_every_step_of_a_create_then_a_rerun_makes_one_image(step, mode, tmp_path):
    ledger_path = tmp_path / "ledger.sqlite3"
    with emulator_for(mode) as emulator:
        build = ids_by_name(emulator)["build-hkg-01"]
        hold = HoldAt(emulator.backend, step)
        child = subprocess.Popen([sys.executable, "-c", KERNEL, build, "killed-镜像", SEPARATED],
                                 env=run_env(emulator, str(ledger_path), tmp_path), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        try:
            assert hold.reached.wait(60), f"the create never reached {step}"
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        finally:
            hold.release()
        assert child.returncode == -signal.SIGKILL
        ledger = Ledger(ledger_path)
        async with async_client(emulator, timeout=CLIENT_TIMEOUT) as client:
            result = await create_image_async(client, build, "killed-镜像", SEPARATED, wait=False, sleep=fast_sleep,
                                              ledger=ledger)
        images = custom_images_named(emulator.backend, "killed-镜像")
    assert images == [result.image_id]
    assert result.adopted == (step in ("create-on-its-way", "create-applied", "waiting"))
    [entry] = [e for e in ledger.entries() if e.image_id]
    assert entry.image_id == result.image_id and entry.description == SEPARATED
