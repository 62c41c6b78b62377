"""Rotation policies applied against the emulator: rotation, ownership, quota, interruption, full zones, running
instances, many instances in parallel."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import zenlayer_widgets as zw
from zenlayer_widgets.core.ledger import Ledger, account_of
from zenlayer_widgets.core.policy import owned_images
from zenlayer_widgets.emulator import mock_zenlayer

FAST = 0.1  # poll interval: the emulator's transitions take 0.2 s


def ids(emulator, *names: str) -> tuple[str, ...]:
    return tuple(emulator.backend.instance_named(name).instance_id for name in names)


def custom(emulator, zone: str) -> dict[str, str]:
    """Image id -> name of a zone's custom images."""
    return {i: r.image_name for i, r in emulator.backend.images.items() if r.zone_id == zone}


def owned_in_zone(client, ledger, emulator, zone: str) -> dict[str, str]:
    owned = owned_images(ledger, account_of(client), "nightly")
    return {i: n for i, n in custom(emulator, zone).items() if i in owned}


class QuotaWatch:
    """Samples every zone's custom-image count while a run goes on (the most ever seen per zone)."""

    def __init__(self, emulator) -> None:
        self.emulator, self.most, self._stop = emulator, {}, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            for zone in self.emulator.backend.zones:
                count = self.emulator.backend.custom_image_count(zone)
                self.most[zone] = max(self.most.get(zone, 0), count)
            time.sleep(0.005)

    def __enter__(self) -> QuotaWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def made_once_all_followed(backend, runs: int) -> None:
    """Images stay CREATING (hour-long transitions) until ``runs`` of them are being followed by id (their creates
    answered and recorded); then the clock moves and all are made. On the 0.2 s wall clock, where the other zone's
    create stood when one zone's step interrupted the run depended on how many polls that step's image took (on a
    loaded machine one, the other create not yet answered: the re-run waited out its settle window, made it anew)."""
    original = backend.describe_images
    followed: set[str] = set()

    def describe_images(zone_id, filters=None, *args, **kwargs):  # noqa: ANN001, ANN202
        followed.update((filters or {}).get("imageIds") or ())
        creating = {image_id for image_id, image in backend.images.items() if image.status == "CREATING"}
        if len(creating & followed) >= runs:
            backend.advance(3600)
        return original(zone_id, filters, *args, **kwargs)

    backend.describe_images = describe_images


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite3")


def test_three_runs_keep_two_leave_the_two_newest_and_foreign_images_alone(mock_emulator, ledger):
    client = mock_emulator.client()
    chosen = ids(mock_emulator, "build-hkg-01", "ci-nyc-01", "game-tyo-02")
    # a foreign image whose name matches the policy's pattern, made from a policy instance outside any policy run
    zw.create_image(client, chosen[0], "nightly-20200101T0000", poll_interval=FAST)
    foreign = {zone: custom(mock_emulator, zone) for zone in ("HKG-A", "NYC-A", "TYO-A")}
    policy = zw.Policy("nightly", keep=2, instance_ids=chosen)
    made = []
    with QuotaWatch(mock_emulator) as watch:
        for _ in range(3):
            outcome = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
            assert outcome.ok and [r.result for r in outcome.results] == ["created"] * 3, outcome.frame()
            made.append({r.instance_id: r.image_id for r in outcome.results})
    assert max(watch.most.values()) <= 5
    for instance, zone in zip(chosen, ("HKG-A", "NYC-A", "TYO-A"), strict=True):
        images = custom(mock_emulator, zone)
        assert foreign[zone].items() <= images.items()  # untouched, the look-alike too
        mine = owned_in_zone(client, ledger, mock_emulator, zone)
        assert set(mine) == {made[1][instance], made[2][instance]}  # exactly two, the newest
        assert len(images) == len(foreign[zone]) + 2
    assert [r.deleted for r in outcome.results] == [(made[0][i],) for i in chosen]


def test_a_run_killed_between_create_and_delete_converges_to_the_uninterrupted_state(ledger, tmp_path):
    def scenario(interrupt: bool, ledger: Ledger) -> tuple[dict, int, zw.apply_rotation]:
        with mock_zenlayer(transition_seconds=3600) as emulator:
            made_once_all_followed(emulator.backend, 2)  # both zones' creates are under way when one is interrupted
            client = emulator.client()
            policy = zw.Policy("nightly", keep=1, instance_ids=ids(emulator, "build-hkg-01", "game-tyo-02"))
            zw.apply_rotation(client, policy, ledger, poll_interval=FAST)

            class Killed(BaseException):
                pass

            def kill(instance_id: str, phase: str) -> None:
                if interrupt and phase == "created":
                    raise Killed  # the new image is AVAILABLE, the old one not yet deleted
            if interrupt:
                with pytest.raises(Killed):
                    zw.apply_rotation(client, policy, ledger, on_step=kill, poll_interval=FAST)
                assert len(custom(emulator, "HKG-A")) == 3  # killed: both images still there
            outcome = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
            state = {zone: sorted(custom(emulator, zone).values()) for zone in ("HKG-A", "TYO-A")}
            owned = {zone: len(owned_in_zone(client, ledger, emulator, zone)) for zone in ("HKG-A", "TYO-A")}
            return {"owned": owned, "count": {z: len(v) for z, v in state.items()},
                    "foreign": {z: [n for n in v if not n.startswith("nightly-2026")] for z, v in state.items()}}, \
                len(ledger.entries()), outcome

    calm, calm_creates, _ = scenario(False, ledger)
    killed, killed_creates, resumed = scenario(True, Ledger(tmp_path / "other.sqlite3"))
    assert killed == calm and calm["owned"] == {"HKG-A": 1, "TYO-A": 1}
    assert killed_creates == calm_creates == 4, (killed_creates, calm_creates)  # the re-run created nothing again
    assert resumed.resumed and resumed.ok and sum(len(r.deleted) for r in resumed.results) >= 1


def test_a_run_cancelled_mid_create_is_resumed_with_the_same_image(ledger):
    with mock_zenlayer(transition_seconds=3600) as emulator:  # CREATING until the test moves the clock
        client = emulator.client()
        policy = zw.Policy("nightly", keep=1, instance_ids=ids(emulator, "build-hkg-01"))

        async def cancel_while_creating() -> None:
            task = asyncio.ensure_future(zw.apply_rotation_async(client, policy, ledger, poll_interval=FAST))
            while not any(r.status == "CREATING" for r in emulator.backend.images.values()):
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        from zenlayer_widgets._runner import run_sync

        run_sync(cancel_while_creating())
        emulator.backend.advance(3600)  # the image is made while no run follows it
        outcome = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
        assert outcome.resumed and outcome.ok
        assert len(custom(emulator, "HKG-A")) == 2 and len(ledger.entries()) == 1  # one create, followed to the end


def test_a_zone_full_of_foreign_images_fails_clearly_and_deletes_nothing(mock_emulator, ledger):
    client = mock_emulator.client()
    before = custom(mock_emulator, "FRA-A")
    outcome = zw.apply_rotation(client, zw.Policy("nightly", instance_ids=ids(mock_emulator, "api-fra-01"),
                                                  delete_first_when_full=True), ledger, poll_interval=FAST)
    assert custom(mock_emulator, "FRA-A") == before
    with pytest.raises(zw.RotationFailed, match=r"full \(5/5\) of images this policy does not own; nothing deleted"):
        outcome.raise_for_failures()


def test_a_full_zone_of_owned_images_deletes_first_only_when_the_policy_says_so(mock_emulator, ledger):
    client = mock_emulator.client()
    sel = ids(mock_emulator, "app-sel-02")
    zw.apply_rotation(client, zw.Policy("nightly", keep=1, instance_ids=sel), ledger, poll_interval=FAST)
    full = custom(mock_emulator, "SEL-A")
    assert len(full) == 5
    refused = zw.apply_rotation(client, zw.Policy("nightly", keep=1, instance_ids=sel), ledger, poll_interval=FAST)
    assert not refused.ok and "not allowed to delete its oldest image before making the new one" in refused.results[0].reason
    assert custom(mock_emulator, "SEL-A") == full
    # allowed to delete first, but the instance's only policy image is its newest good one: it is never deleted
    last = zw.apply_rotation(client, zw.Policy("nightly", keep=1, instance_ids=sel, delete_first_when_full=True), ledger,
                             poll_interval=FAST)
    assert not last.ok and "is its newest good one: it is kept; nothing deleted" in last.results[0].reason
    assert custom(mock_emulator, "SEL-A") == full
    build = ids(mock_emulator, "build-hkg-01")  # HKG-A: 1 foreign image, then 4 of the policy fill the zone
    for _ in range(4):
        assert zw.apply_rotation(client, zw.Policy("nightly", keep=5, instance_ids=build), ledger, poll_interval=FAST).ok
    before = custom(mock_emulator, "HKG-A")
    oldest = min((i for i, n in before.items() if n.startswith("nightly-")), key=lambda i: owned_images(
        ledger, account_of(client), "nightly")[i].made_at)
    rotated = zw.apply_rotation(client, zw.Policy("nightly", keep=2, instance_ids=build, delete_first_when_full=True),
                                ledger, poll_interval=FAST)
    assert rotated.ok and rotated.results[0].deleted == (oldest,)  # one delete: the run's cap (1 instance)
    assert "at most 1 delete per run" in rotated.results[0].reason
    after = custom(mock_emulator, "HKG-A")
    assert len(after) == 5 and {k: v for k, v in before.items() if not v.startswith("nightly-")}.items() <= after.items()


def test_a_running_instance_without_and_with_stop_if_running(mock_emulator, ledger):
    client = mock_emulator.client()
    web = ids(mock_emulator, "web-hkg-01")
    skipped = zw.apply_rotation(client, zw.Policy("nightly", instance_ids=web), ledger, poll_interval=FAST)
    assert skipped.results[0].result == "skipped" and "RUNNING and this policy may not stop it" in skipped.results[0].reason
    assert len(custom(mock_emulator, "HKG-A")) == 1 and mock_emulator.backend.instances[web[0]].status == "RUNNING"
    done = zw.apply_rotation(client, zw.Policy("nightly", instance_ids=web, stop_if_running=True), ledger,
                             poll_interval=FAST)
    assert done.ok and done.results[0].result == "created"
    assert mock_emulator.backend.instances[web[0]].status in ("BOOTING", "RUNNING")  # started again
    kinds = [(a.kind, a.outcome) for a in ledger.history(instance_id=web[0])]  # in the policy's ledger, all of it
    assert kinds == [("start", "done"), ("create", "available"), ("create", "submitted"), ("stop", "done"),
                     ("start", "planned")]  # newest first: the start planned, the stop, the image, the start
    assert zw.ledger_for(client).history(instance_id=web[0]) == []  # nothing strayed into the client's own ledger
    kept = zw.apply_rotation(client, zw.Policy("nightly", instance_ids=ids(mock_emulator, "cache-hkg-01"),
                                               stop_if_running=True, start_after=False), ledger, poll_interval=FAST)
    assert kept.ok and mock_emulator.backend.instance_named("cache-hkg-01").status == "STOPPED"


def test_ten_instances_across_three_zones_in_one_run(ledger, capsys):
    with mock_zenlayer(instances=38, transition_seconds=0.2) as emulator:  # seeded: 4 + 3 + 3 fit these quotas
        client = emulator.client()
        backend = emulator.backend
        zones = ["HKG-A", "TYO-A", "SYD-A"]
        chosen = tuple(r.instance_id for r in backend.instances.values()
                       if r.zone_id in zones and r.status in ("RUNNING", "STOPPED"))
        assert len(chosen) == 10
        by_zone = {z: sum(backend.instances[i].zone_id == z for i in chosen) for z in zones}
        policy = zw.Policy("nightly", keep=2, instance_ids=chosen, stop_if_running=True)
        with QuotaWatch(emulator) as watch:
            started = time.monotonic()
            outcome = zw.apply_rotation(client, policy, ledger, max_parallel=4, poll_interval=FAST)
            wall = time.monotonic() - started
        assert outcome.ok, outcome.frame()
        assert sum(r.result == "created" for r in outcome.results) == len(chosen)
        assert all(watch.most[z] <= 5 for z in zones)
        serial = sum(r.seconds for r in outcome.results)
        with capsys.disabled():
            print(f"\n{len(chosen)} instances in {by_zone}: {wall:.2f} s wall, {serial:.2f} s of instance work")
        assert wall < serial  # zones worked in parallel


def test_a_run_killed_after_the_image_of_a_stopped_instance_still_starts_it_on_the_rerun(ledger, monkeypatch):
    with mock_zenlayer(transition_seconds=0.2) as emulator:
        client = emulator.client()
        web = ids(emulator, "web-hkg-01")
        policy = zw.Policy("nightly", keep=1, instance_ids=web, stop_if_running=True)

        class Killed(BaseException):
            pass

        async def crash_before_the_start(*args, **kwargs):
            raise Killed  # the image is AVAILABLE, the instance still STOPPED

        from zenlayer_widgets.core import create_steps

        with monkeypatch.context() as patch:
            patch.setattr(create_steps, "start_again", crash_before_the_start)
            with pytest.raises(Killed):
                zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
        assert emulator.backend.instances[web[0]].status == "STOPPED" and len(custom(emulator, "HKG-A")) == 2
        outcome = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
        assert outcome.resumed and outcome.ok and len(ledger.entries()) == 1  # no second image
        assert emulator.backend.instances[web[0]].status == "RUNNING"  # the owed start was made


def test_rotation_on_a_sqlite_and_a_postgresql_ledger(mock_emulator, ledger_url):
    client, ledger = mock_emulator.client(), Ledger(ledger_url)
    policy = zw.Policy("nightly", keep=1, instance_ids=ids(mock_emulator, "build-hkg-01"))
    first = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
    second = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
    assert first.ok and second.ok and second.results[0].deleted == (first.results[0].image_id,)
    assert set(owned_in_zone(client, ledger, mock_emulator, "HKG-A")) == {second.results[0].image_id}


def test_each_policy_run_is_one_entry_with_its_creates_and_deletes(mock_emulator, ledger):
    from zenlayer_widgets.core.policy import runs_frame

    client = mock_emulator.client()
    policy = zw.Policy("nightly", keep=1, instance_ids=ids(mock_emulator, "build-hkg-01", "web-hkg-01"))
    first = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
    second = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
    table = runs_frame(ledger, account_of(client), "nightly")
    assert len(table) == 2 and list(table["outcome"]) == ["ok", "ok"]
    made = [{r.instance_id: r for r in outcome.results}[policy.instance_ids[0]] for outcome in (first, second)]
    newest = table.iloc[0]
    assert newest["created"] == made[1].image_name and newest["skipped"] == 1  # web-hkg-01 is RUNNING
    assert newest["deleted"] == made[0].image_id and table.iloc[1]["deleted"] == ""
