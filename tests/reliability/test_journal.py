"""The CreateImage journal: what it writes, where, and how a later run uses an intent left open."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest

from zenlayer_widgets.core import ledger as journal_module
from zenlayer_widgets.api.client import ZenlayerClient
from zenlayer_widgets.api.credentials import Credentials
from zenlayer_widgets.emulator import start_emulator
from zenlayer_widgets.core.ledger import (
    AVAILABLE_OUTCOME, GONE, NOT_MADE, SUBMITTED, TIMEOUT, UNKNOWN, Journal, JournalError, journal_for,
)
from zenlayer_widgets.core.create import ImageWaitTimeout, PreflightFailed, create_image_async

from .helpers import RecordingTransport, async_client, custom_images_named, fast_sleep, ids_by_name, log_creates

SECRET = "journal-test-secret-Qm9sZC1zZWNyZXQ"


@pytest.fixture
def emulator():
    with start_emulator(transition_seconds=0.05, access_key_password=SECRET) as running:
        yield running


@pytest.fixture
def journal(tmp_path) -> Journal:
    return Journal(tmp_path / "state" / "journal.jsonl")


async def create(client, emulator, instance: str, name: str, journal: Journal, **options):
    options.setdefault("poll_interval", 0.01)
    return await create_image_async(client, ids_by_name(emulator)[instance], name, options.pop("description", None),
                                    sleep=fast_sleep, journal=journal, **options)


async def test_intent_then_outcomes_as_json_lines_without_secrets(emulator, journal):
    async with async_client(emulator) as client:
        result = await create(client, emulator, "build-hkg-01", "nightly-1", journal, description="from the runbook")
    text = journal.path.read_text()
    events = [json.loads(line) for line in text.splitlines()]
    assert [e["event"] for e in events] == ["intent", "outcome", "outcome"]
    intent = events[0]
    assert {k: intent[k] for k in ("endpoint", "instance_id", "zone_id", "image_name", "description")} == {
        "endpoint": emulator.url, "instance_id": ids_by_name(emulator)["build-hkg-01"], "zone_id": "HKG-A",
        "image_name": "nightly-1", "description": "from the runbook"}
    assert [(e["outcome"], e["status"]) for e in events[1:]] == [(SUBMITTED, "CREATING"), (AVAILABLE_OUTCOME, "AVAILABLE")]
    assert {e["intent"] for e in events} == {intent["intent"]} and all(e["at"].endswith("+00:00") for e in events)
    assert events[1]["image_id"] == result.image_id and events[1]["request_id"] == result.request_id
    assert SECRET not in text and emulator.access_key_id not in text  # no credentials, not even the key id
    assert stat.S_IMODE(os.stat(journal.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(journal.path.parent).st_mode) == 0o700


async def test_an_intent_without_outcome_adopts_the_image_already_made(emulator, journal):
    """What a crash between sending CreateImage and writing its outcome leaves behind."""
    build = ids_by_name(emulator)["build-hkg-01"]
    journal.begin(emulator.url, build, "HKG-A", "crashed-run", None)
    made = emulator.backend.create_image(build, "crashed-run")  # the request that did reach the API
    creates, transport = log_creates(emulator.backend), RecordingTransport()
    seen = []
    async with async_client(emulator, transport) as client:
        result = await create(client, emulator, "build-hkg-01", "crashed-run", journal, on_progress=lambda p: seen.append(p.phase))
    assert result.adopted and result.image_id == made.image_id and result.status == "AVAILABLE"
    assert creates.applied == [] and "CreateImage" not in [a for a, _ in transport.log]
    assert seen[0] == "reconciling" and seen[-1] == "done"
    assert [(e.outcome, e.image_id) for e in journal.entries()] == [(AVAILABLE_OUTCOME, made.image_id)]


async def test_an_intent_without_outcome_and_without_image_is_closed_and_made_once(emulator, journal):
    build = ids_by_name(emulator)["build-hkg-01"]
    journal.begin(emulator.url, build, "HKG-A", "never-sent", None)
    creates = log_creates(emulator.backend)
    async with async_client(emulator) as client:
        result = await create(client, emulator, "build-hkg-01", "never-sent", journal)
    assert not result.adopted and creates.images_for("never-sent") == [result.image_id]
    assert [e.outcome for e in journal.entries()] == [NOT_MADE, AVAILABLE_OUTCOME]


class BreaksAfterCreateImage(RecordingTransport):
    """CreateImage goes through, then something unforeseen (not an httpx error) blows up."""

    async def handle_async_request(self, request):  # noqa: ANN001, ANN201
        response = await super().handle_async_request(request)
        if request.headers.get("x-zc-action") == "CreateImage":
            raise RuntimeError("a bug after the request went out")
        return response


async def test_an_unforeseen_failure_after_sending_stays_open_and_is_adopted(emulator, journal):
    creates = log_creates(emulator.backend)
    async with async_client(emulator, BreaksAfterCreateImage()) as client:
        with pytest.raises(RuntimeError):
            await create(client, emulator, "build-hkg-01", "unforeseen", journal)
    assert journal.entries()[-1].outcome == UNKNOWN and journal.entries()[-1].error == {"type": "RuntimeError"}
    async with async_client(emulator) as client:
        result = await create(client, emulator, "build-hkg-01", "unforeseen", journal)
    assert result.adopted and creates.images_for("unforeseen") == [result.image_id]


async def test_a_wait_timeout_stays_open_and_the_rerun_follows_the_same_image(journal):
    with start_emulator(transition_seconds=3600) as slow:
        creates = log_creates(slow.backend)
        async with async_client(slow) as client:
            with pytest.raises(ImageWaitTimeout):
                await create(client, slow, "game-tyo-02", "slow-image", journal, timeout=0.05)
            assert journal.entries()[-1].outcome == TIMEOUT and journal.entries()[-1].open
            slow.backend.advance(3600)
            result = await create(client, slow, "game-tyo-02", "slow-image", journal)
    assert result.adopted and result.status == "AVAILABLE" and creates.images_for("slow-image") == [result.image_id]


async def test_a_finished_intent_is_history_not_a_reason_to_adopt(emulator, journal):
    async with async_client(emulator) as client:
        await create(client, emulator, "build-hkg-01", "done-once", journal)
        with pytest.raises(PreflightFailed, match="already has an image named 'done-once'"):
            await create(client, emulator, "build-hkg-01", "done-once", journal)


async def test_an_image_deleted_since_closes_the_intent_as_gone(emulator, journal):
    """Ours was deleted and another image took its name: not adopted; the duplicate name is refused."""
    build = ids_by_name(emulator)["build-hkg-01"]
    entry = journal.begin(emulator.url, build, "HKG-A", "taken-over", None)
    ours = emulator.backend.create_image(build, "taken-over")
    journal.record(entry.intent_id, SUBMITTED, image_id=ours.image_id, status="CREATING")
    emulator.backend.advance(1)
    emulator.backend.delete_images([ours.image_id])
    emulator.backend.create_image(ids_by_name(emulator)["db-hkg-01"], "taken-over")
    async with async_client(emulator) as client:
        with pytest.raises(PreflightFailed):
            await create(client, emulator, "build-hkg-01", "taken-over", journal)
    assert journal.entries()[-1].outcome == GONE
    assert len(custom_images_named(emulator.backend, "taken-over")) == 1


async def test_intents_are_kept_per_endpoint(emulator, journal):
    build = ids_by_name(emulator)["build-hkg-01"]
    journal.begin("https://console.zenlayer.com", build, "HKG-A", "elsewhere", None)
    emulator.backend.create_image(build, "elsewhere")  # same name here, but not this journal's intent
    async with async_client(emulator) as client:
        with pytest.raises(PreflightFailed):
            await create(client, emulator, "build-hkg-01", "elsewhere", journal)
    assert journal.open_intent("https://console.zenlayer.com", build, "elsewhere") is not None


async def test_an_unwritable_journal_stops_the_create_before_anything_is_sent(emulator, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    transport = RecordingTransport()
    async with async_client(emulator, transport) as client:
        with pytest.raises(JournalError, match="cannot be read.*nothing was sent.*ZENLAYER_JOURNAL=off"):
            await create(client, emulator, "build-hkg-01", "unjournaled", Journal(blocker / "journal.jsonl"))
    assert "CreateImage" not in [a for a, _ in transport.log]
    assert custom_images_named(emulator.backend, "unjournaled") == []


async def test_an_outcome_that_cannot_be_written_warns_and_keeps_the_result(emulator, journal):
    append = journal._append
    calls = []

    def append_intent_only(event):  # noqa: ANN001, ANN202 - the disk fills up after the intent
        calls.append(event["event"])
        if event["event"] != "intent":
            raise OSError(28, "No space left on device")
        append(event)

    journal._append = append_intent_only
    async with async_client(emulator) as client:
        with pytest.warns(RuntimeWarning, match="could not record outcome"):
            result = await create(client, emulator, "build-hkg-01", "disk-full", journal)
    assert result.status == "AVAILABLE" and calls[0] == "intent" and len(calls) >= 2


def test_a_line_cut_short_by_a_crash_is_skipped_and_the_next_one_starts_fresh(journal):
    first = journal.begin("https://e", "i-1", "HKG-A", "one", None)
    with journal.path.open("a") as handle:
        handle.write('{"v":1,"event":"outcome","intent":"' + first.intent_id + '","outc')  # no newline: torn
    second = journal.begin("https://e", "i-2", "HKG-A", "two", "d")
    assert [(e.intent_id, e.outcome) for e in journal.entries()] == [(first.intent_id, None), (second.intent_id, None)]
    assert journal.path.read_text().count("\n") == 3


def test_concurrent_writers_keep_every_line_whole(journal):
    def write(worker: int) -> None:
        for n in range(40):
            entry = journal.begin("https://e", f"i-{worker}", "HKG-A", f"n-{worker}-{n}", "x" * 200)
            journal.record(entry.intent_id, NOT_MADE)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = journal.path.read_text().splitlines()
    assert len(lines) == 6 * 40 * 2 and all(json.loads(line) for line in lines)
    assert len(journal.entries()) == 240 and not any(e.open for e in journal.entries())


def test_where_the_journal_lives(tmp_path, monkeypatch):
    credentials = Credentials(access_key_id="k", access_key_password="p")
    with ZenlayerClient(credentials, base_url="https://api.test") as real, \
            ZenlayerClient(credentials, base_url="http://127.0.0.1:9", sandbox=True) as sandbox:
        monkeypatch.delenv("ZENLAYER_JOURNAL", raising=False)
        monkeypatch.setattr(journal_module, "default_journal_path", lambda: tmp_path / "home" / "journal.jsonl")
        assert journal_for(real).path == tmp_path / "home" / "journal.jsonl"
        assert journal_for(sandbox).path is None  # the sandbox never writes into the real journal
        monkeypatch.setenv("ZENLAYER_JOURNAL", str(tmp_path / "chosen.jsonl"))
        assert journal_for(real).path == tmp_path / "chosen.jsonl" and journal_for(sandbox).path is None
        monkeypatch.setenv("ZENLAYER_JOURNAL", "off")
        assert journal_for(real).path is None and journal_for(real) is journal_for(sandbox)
    assert journal_module.default_journal_path.__name__ == "<lambda>"  # the real default is ~/.zenlayer/...
    monkeypatch.undo()
    assert journal_module.default_journal_path().parts[-2:] == (".zenlayer", "journal.jsonl")


def test_the_journal_as_a_table(journal):
    entry = journal.begin("https://e", "i-1", "HKG-A", "shown", None)
    journal.record(entry.intent_id, AVAILABLE_OUTCOME, image_id="img-1", status="AVAILABLE")
    frame = journal.to_frame()
    assert frame.loc[0, ["image_name", "outcome", "image_id"]].tolist() == ["shown", AVAILABLE_OUTCOME, "img-1"]
