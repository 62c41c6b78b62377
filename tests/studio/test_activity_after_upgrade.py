"""The Activity after the upgrade to ledger version 8: a start owed in the old form (a ``planned`` start action,
now also an unfinished create operation) is still announced and listed, the create that takes it up adds its
rows, and the instance is no longer owed once it is RUNNING again."""

from __future__ import annotations

import sqlalchemy as sa

from shared import ids_by_name
from zenlayer_widgets.core import ledger as ledger_module
from zenlayer_widgets.core.create import create_image_async
from zenlayer_widgets.core.ledger import account_of, ledger_for, migrations
from zenlayer_widgets.core.ledger.engine import make_engine, sqlite_file_url
from zenlayer_widgets.core.ledger.records import now_text
from zenlayer_widgets.core.operations import SUCCEEDED, store
from zenlayer_widgets.studio.controller import StudioController


async def test_an_old_owed_start_is_announced_listed_and_taken_up_by_the_create(mock_aclient, mock_emulator):
    web = ids_by_name(mock_emulator)["web-hkg-01"]
    mock_emulator.backend.stop_instances([web], False)
    mock_emulator.backend.advance(60)
    engine = make_engine(sqlite_file_url(ledger_module.sandbox_ledger_path()))  # the sandbox ledger, at version 7
    migrations.migrate(engine, up_to=7)
    actions = sa.table("zw_actions", *[sa.column(c) for c in ("at", "kind", "account", "zone_id", "instance_id",
                                                              "image_name", "outcome", "who", "detail")])
    with engine.begin() as connection:
        connection.execute(actions.insert().values(at=now_text(), kind="start", account=account_of(mock_aclient),
                                                   zone_id="HKG-A", instance_id=web, image_name="owed-nightly",
                                                   outcome="planned", who="an older release", detail=None))
    engine.dispose()
    studio = StudioController(mock_aclient, poll_interval=0.1)
    await studio.refresh()  # opens the ledger: the upgrade
    assert web in studio.activity.notice and "Start instance" in studio.activity.notice
    assert [(r["kind"], r["outcome"]) for r in studio.activity.rows] == [("start", "planned")]
    await create_image_async(mock_aclient, web, "owed-nightly", poll_interval=0.1)
    await studio.refresh()
    rows = [(r["kind"], r["outcome"]) for r in studio.activity.rows]
    owed = studio.activity.owed_restarts()
    studio.close()
    [operation] = store.operations(ledger_for(mock_aclient), account_of(mock_aclient), kind="create")
    assert rows == [("start", "done"), ("create", "available")] and owed == []  # the old planned row: closed by the start
    assert operation.outcome == SUCCEEDED and operation.params.get("migrated_from_action")
    assert mock_emulator.backend.instances[web].status == "RUNNING"
