"""The start a create owes is its operation's pending start step: planned before the stop, taken up by a re-run of
the same create, settled by a start by hand; and a start owed in the old form (a ledger at version 7) is taken up
after the upgrade."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared import fast
from zenlayer_widgets.core import create_steps
from zenlayer_widgets.core.create import create_image_async
from zenlayer_widgets.core.ledger import Ledger, account_of, migrations
from zenlayer_widgets.core.ledger.engine import make_engine, sqlite_file_url
from zenlayer_widgets.core.ledger.records import now_text
from zenlayer_widgets.core.operations import DONE, SUCCEEDED, store
from zenlayer_widgets.core.power import stop_instance_async
from zenlayer_widgets.core.restart import pending_restart, restart_async
from zenlayer_widgets.emulator import mock_zenlayer


@pytest.fixture
def quick():
    with mock_zenlayer(transition_seconds=0.05) as running:
        yield running


def custom_named(quick, name: str) -> list[str]:
    return [i.image_id for i in quick.backend.images.values() if i.image_name == name]


async def test_an_owed_start_from_a_ledger_at_version_7_is_taken_up_after_the_upgrade(quick, tmp_path):
    web = quick.backend.instance_named("web-hkg-01").instance_id
    url = sqlite_file_url(tmp_path / "ledger.sqlite3")
    engine = make_engine(url)
    assert migrations.migrate(engine, up_to=7) == 7
    async with quick.async_client() as client:
        await stop_instance_async(client, web, poll_interval=0.1, sleep=fast, ledger=Ledger(None))
        stopped_at = now_text()
        actions = sa.table("zw_actions", *[sa.column(c) for c in ("at", "kind", "account", "zone_id", "instance_id",
                                                                  "image_name", "outcome", "who", "detail")])
        with engine.begin() as connection:  # what the release before version 8 wrote before its stop
            connection.execute(actions.insert().values(
                at=stopped_at, kind="start", account=account_of(client), zone_id="HKG-A", instance_id=web,
                image_name="owed-nightly", outcome="planned", who="an older release", detail="stopped at " + stopped_at))
        engine.dispose()
        ledger = Ledger(url)  # the upgrade
        owed = pending_restart(ledger, client, web)
        assert ledger.version >= 8 and owed is not None and owed.image_name == "owed-nightly"
        made = await create_image_async(client, web, "owed-nightly", poll_interval=0.1, sleep=fast, ledger=ledger)
        assert pending_restart(ledger, client, web) is None
        [operation] = store.operations(ledger, account_of(client), kind="create")
    assert made.status == "AVAILABLE" and made.started_at is not None and made.stopped_at == stopped_at
    assert quick.backend.instances[web].status == "RUNNING" and custom_named(quick, "owed-nightly") == [made.image_id]
    assert operation.outcome == SUCCEEDED and operation.params["migrated_from_action"]
    assert [s.state for s in operation.steps] == [DONE, DONE, DONE]


async def killed_before_its_start(client, web: str, name: str, ledger: Ledger, monkeypatch) -> None:
    """A create with stop_if_running whose kernel dies with the image AVAILABLE and the instance STOPPED."""

    async def killed(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(create_steps, "start_again", killed)
        with pytest.raises(KeyboardInterrupt):
            await create_image_async(client, web, name, stop_if_running=True, poll_interval=0.1, sleep=fast,
                                     ledger=ledger)


async def test_a_create_killed_before_its_start_is_finished_by_the_rerun_as_the_same_operation(quick, monkeypatch):
    web = quick.backend.instance_named("web-hkg-01").instance_id
    ledger = Ledger(None)
    async with quick.async_client() as client:
        await killed_before_its_start(client, web, "resumed", ledger, monkeypatch)
        [unfinished] = store.operations(ledger, account_of(client), kind="create", unfinished_only=True)
        assert [s.kind for s in unfinished.steps][-1] == "start_owed" and pending_restart(ledger, client, web)
        again = await create_image_async(client, web, "resumed", stop_if_running=True, poll_interval=0.1, sleep=fast,
                                         ledger=ledger)
        [operation] = store.operations(ledger, account_of(client), kind="create")
    assert operation.operation_id == unfinished.operation_id and operation.outcome == SUCCEEDED
    assert again.image_id == operation.facts["image_id"] and custom_named(quick, "resumed") == [again.image_id]
    assert quick.backend.instances[web].status == "RUNNING" and again.started_at is not None


async def test_a_start_by_hand_settles_the_start_a_create_owes(quick, monkeypatch):
    web = quick.backend.instance_named("web-hkg-01").instance_id
    ledger = Ledger(None)
    async with quick.async_client() as client:
        await killed_before_its_start(client, web, "by-hand", ledger, monkeypatch)
        await restart_async(client, web, poll_interval=0.1, sleep=fast, ledger=ledger)
        assert pending_restart(ledger, client, web) is None
        [operation] = store.operations(ledger, account_of(client), kind="create")
    assert operation.finished and operation.outcome == SUCCEEDED  # stop, image and follow were done: all done
    assert quick.backend.instances[web].status == "RUNNING"
