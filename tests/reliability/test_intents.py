"""The create workflow on the ledger: what an intent holds, and how a later run takes up one left open."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared import account_for, ids_by_name
from zenlayer_widgets.core.create import CreateOutcomeUnknown, ImageWaitTimeout, PreflightFailed, create_image_async
from zenlayer_widgets.core.ledger import (
    AVAILABLE_OUTCOME,
    GONE,
    NOT_MADE,
    SUBMITTED,
    TIMEOUT,
    UNKNOWN,
    Ledger,
    LedgerError,
    ledger_for,
)
from zenlayer_widgets.emulator import mock_zenlayer

from .helpers import RecordingTransport, async_client, custom_images_named, fast_sleep, log_creates

SECRET = "journal-test-secret-Qm9sZC1zZWNyZXQ"
DEAD_OWNER = "0" * 32  # an owner token of no live run (another process, long gone)


@pytest.fixture
def mock_emulator():
    """The in-process emulator (no socket needed here) with 0.05 s transitions and a password to look for."""
    with mock_zenlayer(transition_seconds=0.05, access_key_password=SECRET) as running:
        yield running


@pytest.fixture
def slow():
    """Images take a minute: the instance stays IMAGING, as on the real API while a re-run looks (in-process)."""
    with mock_zenlayer(transition_seconds=60, access_key_password=SECRET) as running:
        yield running


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger(tmp_path / "state" / "ledger.sqlite3")


async def create(client, emulator, instance: str, name: str, ledger: Ledger, **options):
    options.setdefault("poll_interval", 0.1)
    return await create_image_async(client, ids_by_name(emulator)[instance], name, options.pop("description", None),
                                    sleep=fast_sleep, ledger=ledger, **options)


def crashed_intent(ledger: Ledger, emulator, instance: str, name: str, *, sent: bool = True, settle: float = 0.0):
    """What a run killed after writing its intent (and, ``sent``, after sending) leaves behind."""
    build = ids_by_name(emulator)[instance]
    record = emulator.backend.instances[build]
    zone_images = sorted(i.image_id for i in emulator.backend.images.values()
                         if i.image_type == "CUSTOM_IMAGE" and i.zone_id == record.zone_id)
    entry = ledger.begin(account_for(emulator), build, record.zone_id, name, None, owner=DEAD_OWNER, settle_seconds=settle,
                         snapshot={"image_ids": zone_images, "instance_status": "STOPPED", "disk_size": record.system_disk_size})
    if sent:
        ledger.mark_sent(entry.intent_id, DEAD_OWNER)
    with ledger.engine.begin() as connection:  # its heartbeat is old: the run is gone
        connection.exec_driver_sql("UPDATE zw_intents SET heartbeat_at = '2000-01-01T00:00:00.000+00:00'")
    return build


def database_bytes(ledger: Ledger) -> bytes:
    from pathlib import Path

    return b"".join(p.read_bytes() for p in Path(ledger.path).parent.glob("ledger.sqlite3*"))


async def test_an_intent_and_its_outcomes_without_secrets(mock_emulator, ledger):
    async with async_client(mock_emulator) as client:
        result = await create(client, mock_emulator, "build-hkg-01", "nightly-1", ledger, description="from the runbook")
    [entry] = ledger.entries()
    assert (entry.account, entry.instance_id, entry.zone_id, entry.image_name, entry.description) == (
        account_for(mock_emulator), ids_by_name(mock_emulator)["build-hkg-01"], "HKG-A", "nightly-1", "from the runbook")
    assert (entry.outcome, entry.image_id, entry.request_id, entry.open) == (AVAILABLE_OUTCOME, result.image_id,
                                                                             result.request_id, False)
    assert entry.snapshot["instance_status"] == "STOPPED" and result.image_id not in entry.snapshot["image_ids"]
    assert entry.sent_at is not None and entry.attempts == 1 and entry.settle_seconds == pytest.approx(65.0)
    assert [a.outcome for a in ledger.history(kinds=["create"])] == [AVAILABLE_OUTCOME, SUBMITTED]
    stored = database_bytes(ledger)
    assert SECRET.encode() not in stored  # no secret; the access key id is in the account (the console shows it too)


async def test_an_intent_left_open_while_the_instance_images_adopts_that_image(slow, ledger):
    """A crash between sending CreateImage and writing its outcome: the image is new, carries the name,
    and the instance is IMAGING: it is this intent's."""
    build = crashed_intent(ledger, slow, "build-hkg-01", "crashed-run")
    made = slow.backend.create_image(build, "crashed-run")  # the request that did reach the API
    creates, transport = log_creates(slow.backend), RecordingTransport()
    seen = []
    async with async_client(slow, transport) as client:
        result = await create(client, slow, "build-hkg-01", "crashed-run", ledger, wait=False,
                              on_progress=lambda p: seen.append(p.phase))
    assert result.adopted and result.image_id == made.image_id and result.status == "CREATING"
    assert creates.applied == [] and "CreateImage" not in [a for a, _ in transport.log]
    assert seen[0] == "reconciling"
    [entry] = ledger.entries()
    assert (entry.outcome, entry.image_id, entry.evidence["seen_imaging"]) == ("adopted", made.image_id, True)


async def test_a_same_named_image_without_evidence_is_unknown_never_adopted(mock_emulator, ledger):
    """The image appeared, but the instance is STOPPED: ours that finished, or a colleague's from another
    instance? Zenlayer's records cannot tell, so the run says unknown and names the candidate."""
    ours = crashed_intent(ledger, mock_emulator, "db-hkg-01", "whose-image")  # a 100 GB disk
    theirs = mock_emulator.backend.create_image(ids_by_name(mock_emulator)["build-hkg-01"], "whose-image")  # 60 GB: it fits
    mock_emulator.backend.advance(1)
    transport = RecordingTransport()
    async with async_client(mock_emulator, transport) as client:
        with pytest.raises(CreateOutcomeUnknown, match=rf"{theirs.image_id}.*settle_intent") as unknown:
            await create(client, mock_emulator, "db-hkg-01", "whose-image", ledger)
    assert [c.image_id for c in unknown.value.candidates] == [theirs.image_id]
    assert "CreateImage" not in [a for a, _ in transport.log]
    [entry] = ledger.entries()
    assert (entry.outcome, entry.open, entry.image_id) == (UNKNOWN, True, None) and ours == entry.instance_id


async def test_an_image_larger_than_the_disk_is_not_a_candidate(mock_emulator, ledger):
    """A colleague's image of a 100 GB disk cannot come from our 60 GB one: nothing of ours was made, and
    the name is taken: a clear refusal, no second send, nothing adopted."""
    crashed_intent(ledger, mock_emulator, "build-hkg-01", "too-big")
    mock_emulator.backend.create_image(ids_by_name(mock_emulator)["db-hkg-01"], "too-big")
    mock_emulator.backend.advance(1)
    async with async_client(mock_emulator) as client:
        with pytest.raises(PreflightFailed, match="already has an image named 'too-big'"):
            await create(client, mock_emulator, "build-hkg-01", "too-big", ledger)
    assert ledger.entries()[0].outcome == NOT_MADE


async def test_an_intent_never_sent_is_closed_and_made_once(mock_emulator, ledger):
    crashed_intent(ledger, mock_emulator, "build-hkg-01", "never-sent", sent=False)
    creates = log_creates(mock_emulator.backend)
    async with async_client(mock_emulator) as client:
        result = await create(client, mock_emulator, "build-hkg-01", "never-sent", ledger)
    assert not result.adopted and creates.images_for("never-sent") == [result.image_id]
    assert [e.outcome for e in ledger.entries()] == [NOT_MADE, AVAILABLE_OUTCOME]


async def test_a_sent_intent_with_no_image_is_closed_once_nothing_can_land(mock_emulator, ledger):
    crashed_intent(ledger, mock_emulator, "build-hkg-01", "lost-on-the-way", settle=0.0)  # its settle window is over
    creates = log_creates(mock_emulator.backend)
    async with async_client(mock_emulator) as client:
        result = await create(client, mock_emulator, "build-hkg-01", "lost-on-the-way", ledger)
    assert not result.adopted and creates.images_for("lost-on-the-way") == [result.image_id]
    assert [e.outcome for e in ledger.entries()] == [NOT_MADE, AVAILABLE_OUTCOME]


class BreaksAfterCreateImage(RecordingTransport):
    """CreateImage goes through, then something unforeseen (not an httpx error) blows up."""

    async def handle_async_request(self, request):  # noqa: ANN001, ANN201
        response = await super().handle_async_request(request)
        if request.headers.get("x-zc-action") == "CreateImage":
            raise RuntimeError("a bug after the request went out")
        return response


async def test_an_unforeseen_failure_after_sending_stays_open_and_is_adopted(slow, ledger):
    creates = log_creates(slow.backend)
    async with async_client(slow, BreaksAfterCreateImage()) as client:
        with pytest.raises(RuntimeError):
            await create(client, slow, "build-hkg-01", "unforeseen", ledger)
    assert ledger.entries()[-1].outcome == UNKNOWN and ledger.entries()[-1].error == {"type": "RuntimeError"}
    async with async_client(slow) as client:
        result = await create(client, slow, "build-hkg-01", "unforeseen", ledger, wait=False)
    assert result.adopted and creates.images_for("unforeseen") == [result.image_id]


async def test_a_wait_timeout_stays_open_and_the_rerun_follows_the_same_image(ledger):
    with mock_zenlayer(transition_seconds=3600) as slow:
        creates = log_creates(slow.backend)
        async with async_client(slow) as client:
            with pytest.raises(ImageWaitTimeout):
                await create(client, slow, "game-tyo-02", "slow-image", ledger, timeout=0.05)
            assert ledger.entries()[-1].outcome == TIMEOUT and ledger.entries()[-1].open
            slow.backend.advance(3600)
            result = await create(client, slow, "game-tyo-02", "slow-image", ledger)
    assert result.adopted and result.status == "AVAILABLE" and creates.images_for("slow-image") == [result.image_id]


async def test_a_finished_intent_is_reported_not_made_again(mock_emulator, ledger):
    """The re-run of a create that finished reports its image (tests/reliability/test_rerun.py has the rest)."""
    creates = log_creates(mock_emulator.backend)
    async with async_client(mock_emulator) as client:
        first = await create(client, mock_emulator, "build-hkg-01", "done-once", ledger)
        again = await create(client, mock_emulator, "build-hkg-01", "done-once", ledger)
    assert again.already_made and again.image_id == first.image_id
    assert creates.images_for("done-once") == [first.image_id]


async def test_an_image_deleted_since_closes_the_intent_as_gone(mock_emulator, ledger):
    """Ours was deleted and another image took its name: not adopted (the intent follows its image id)."""
    build = ids_by_name(mock_emulator)["build-hkg-01"]
    entry = ledger.begin(account_for(mock_emulator), build, "HKG-A", "taken-over", None)
    ours = mock_emulator.backend.create_image(build, "taken-over")
    ledger.record(entry.intent_id, SUBMITTED, account=entry.account, image_id=ours.image_id, status="CREATING")
    mock_emulator.backend.advance(1)
    mock_emulator.backend.delete_images([ours.image_id])
    mock_emulator.backend.create_image(ids_by_name(mock_emulator)["db-hkg-01"], "taken-over")
    async with async_client(mock_emulator) as client:
        with pytest.raises(PreflightFailed):
            await create(client, mock_emulator, "build-hkg-01", "taken-over", ledger)
    assert ledger.entries()[-1].outcome == GONE
    assert len(custom_images_named(mock_emulator.backend, "taken-over")) == 1


async def test_intents_are_kept_per_account(mock_emulator, ledger):
    build = ids_by_name(mock_emulator)["build-hkg-01"]
    ledger.begin("https://console.zenlayer.com", build, "HKG-A", "elsewhere", None)
    mock_emulator.backend.create_image(build, "elsewhere")  # same name here, but not this account's intent
    async with async_client(mock_emulator) as client:
        with pytest.raises(PreflightFailed):
            await create(client, mock_emulator, "build-hkg-01", "elsewhere", ledger)
    assert ledger.open_intent("https://console.zenlayer.com", build, "elsewhere") is not None


async def test_an_unusable_ledger_stops_the_create_before_anything_is_sent(mock_emulator, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("ZENLAYER_JOURNAL", str(blocker / "ledger.sqlite3"))
    transport = RecordingTransport()
    async with async_client(mock_emulator, transport) as client:
        with pytest.raises(LedgerError, match="cannot be created.*nothing was sent.*ZENLAYER_JOURNAL"):
            await create_image_async(client, ids_by_name(mock_emulator)["build-hkg-01"], "unledgered",
                                     sleep=fast_sleep, poll_interval=0.1)
        assert "CreateImage" not in [a for a, _ in transport.log]
    assert custom_images_named(mock_emulator.backend, "unledgered") == []
    with pytest.raises(LedgerError, match="cannot be created"):
        Ledger(blocker / "ledger.sqlite3")


async def test_an_outcome_that_cannot_be_written_warns_and_keeps_the_result(mock_emulator, ledger):
    failures = []

    @sa.event.listens_for(ledger.engine, "before_cursor_execute")
    def disk_full(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
        if statement.startswith("UPDATE zw_intents") and "outcome=" in statement:  # the disk fills up after the intent
            failures.append(statement)
            raise sa.exc.OperationalError(statement, parameters, OSError(28, "No space left on device"))

    async with async_client(mock_emulator) as client:
        with pytest.warns(RuntimeWarning, match="could not record outcome"):
            result = await create(client, mock_emulator, "build-hkg-01", "disk-full", ledger)
    assert result.status == "AVAILABLE" and failures


def test_the_ledger_as_a_table(ledger):
    entry = ledger.begin("https://e", "i-1", "HKG-A", "shown", None)
    ledger.record(entry.intent_id, AVAILABLE_OUTCOME, account=entry.account, image_id="img-1", status="AVAILABLE")
    frame = ledger.to_frame()
    assert frame.loc[0, ["image_name", "outcome", "image_id"]].tolist() == ["shown", AVAILABLE_OUTCOME, "img-1"]
    assert ledger_for.__name__ == "ledger_for"


async def test_an_intent_whose_image_finished_since_does_not_block_the_next_create(ledger):
    """A wait that timed out and was never re-run leaves its intent open; once its image is done, a create
    of another name on the same instance closes it (AVAILABLE) and goes on."""
    with mock_zenlayer(transition_seconds=3600) as slow:
        async with async_client(slow) as client:
            with pytest.raises(ImageWaitTimeout):
                await create(client, slow, "game-tyo-02", "first", ledger, timeout=0.05)
            slow.backend.advance(3600)  # the first image is AVAILABLE, the instance STOPPED again
            result = await create(client, slow, "game-tyo-02", "second", ledger, wait=False)
    assert not result.adopted and [(e.image_name, e.outcome) for e in ledger.entries()] == [
        ("first", AVAILABLE_OUTCOME), ("second", SUBMITTED)]
