"""An image row's proof line (source instance, verified / boot time) and its Verify, Launch a copy and Restore,
driven through the controller and the row widgets against the in-process emulator (no browser)."""

from __future__ import annotations

from shared import ids_by_name
from zenlayer_widgets.studio.image_proof import LAUNCH, RESTORE, VERIFY


async def made_image(controller, mock_emulator, instance: str = "db-hkg-01", name: str = "db-proof"):  # noqa: ANN001, ANN201
    """An image made through the studio (so the ledger knows its source instance)."""
    controller.select(ids_by_name(mock_emulator)[instance])
    controller.set_name(name)
    result = await controller.submit()
    assert result is not None and result.status == "AVAILABLE"
    return controller.image(result.image_id)


def throwaways(mock_emulator) -> list[str]:  # noqa: ANN001
    from zenlayer_widgets.core.operations.steps.instances import TAG_ROLE

    return [r.instance_id for r in mock_emulator.backend.instances.values() if any(k == TAG_ROLE for k, _ in r.tags)]


async def test_a_row_names_its_source_and_says_not_verified_then_verified_with_boot_time(controller, mock_emulator) -> None:
    image = await made_image(controller, mock_emulator)
    assert controller.proofs[image.image_id] == "from db-hkg-01 · not verified"
    await controller.open_row_action(image.image_id, VERIFY)
    assert controller.row_action == (image.image_id, VERIFY)
    _, price, instance_type = controller.row_price  # asked before anything is launched
    assert price is not None and price > 0 and instance_type and throwaways(mock_emulator) == []
    assert await controller.verify_row(image.image_id)
    image_id, level, text, _ = controller.image_note  # the outcome stays at the row
    assert (image_id, level) == (image.image_id, "ok") and "booted in" in text and "released" in text
    proof = controller.proofs[image.image_id]
    assert proof.startswith("from db-hkg-01 · verified ") and " UTC" in proof and "booted in" in proof
    assert throwaways(mock_emulator) == [] and controller.row_action == ()


async def test_an_image_that_does_not_boot_says_so_at_the_row_and_stays_not_verified(controller, mock_emulator) -> None:
    image = await made_image(controller, mock_emulator)
    mock_emulator.set_faults(["CreateInstances:boot_failure:1"])
    assert not await controller.verify_row(image.image_id)
    image_id, level, text, _ = controller.image_note
    assert (image_id, level) == (image.image_id, "error") and "did not boot" in text and "released" in text
    assert controller.proofs[image.image_id].endswith("not verified") and throwaways(mock_emulator) == []


async def test_launch_a_copy_defaults_to_the_source_shows_the_price_and_leaves_the_new_id(controller, mock_emulator) -> None:
    image = await made_image(controller, mock_emulator)
    source = ids_by_name(mock_emulator)["db-hkg-01"]
    assert controller.source_of(image.image_id).instance_id == source
    await controller.open_row_action(image.image_id, LAUNCH)
    assert controller.row_price[1] is not None
    before = set(mock_emulator.backend.instances)
    assert not await controller.launch_row(image.image_id, source, "bad name!")  # the instance-name rule; nothing sent
    assert controller.image_note[1] == "error" and set(mock_emulator.backend.instances) == before
    assert await controller.launch_row(image.image_id, source, "db-copy"), controller.image_note
    [new] = set(mock_emulator.backend.instances) - before
    assert controller.image_note[1] == "ok" and new in controller.image_note[2]
    assert mock_emulator.backend.instances[new].status == "RUNNING"


async def test_restore_needs_the_typed_name_stops_a_running_instance_and_ends_running(controller, mock_emulator) -> None:
    image = await made_image(controller, mock_emulator)
    web = ids_by_name(mock_emulator)["db-hkg-01"]  # the image's source, started again: RUNNING
    running = mock_emulator.backend._instances[web]  # the record, not a copy
    running.status, running.cached_json = "RUNNING", None
    await controller.refresh()
    resets = []
    original = mock_emulator.backend.reset_instance
    mock_emulator.backend.reset_instance = lambda *a, **k: (resets.append(a), original(*a, **k))[1]
    assert not await controller.restore_row(image.image_id, web, "db-hkg")  # not its name: nothing sent
    assert controller.image_note[1] == "error" and "db-hkg-01" in controller.image_note[2] and resets == []
    assert await controller.restore_row(image.image_id, web, "db-hkg-01"), controller.image_note
    record = mock_emulator.backend.instances[web]
    assert len(resets) == 1 and record.status == "RUNNING" and record.image_id == image.image_id
    assert controller.image_note[1] == "ok" and "RUNNING" in controller.image_note[2]


async def test_row_actions_are_disabled_read_only_and_for_an_image_not_available(controller, mock_emulator) -> None:
    from zenlayer_widgets.widgets.inventory_view import InventoryView

    image = await made_image(controller, mock_emulator)
    view = InventoryView(controller)
    row = view.rows[image.image_id]
    assert not row.verify_button.disabled and not row.restore_button.disabled
    assert "from db-hkg-01" in row.proof.value
    object.__setattr__(controller.client, "read_only", True)
    try:
        row.show(image)
        assert row.verify_button.disabled and row.launch_button.disabled and row.restore_button.disabled
        assert "read-only" in row.verify_button.tooltip
        await controller.open_row_action(image.image_id, VERIFY)
        assert controller.row_action == () and controller.image_note[1] == "error"
    finally:
        object.__setattr__(controller.client, "read_only", False)
    row.show(image)
    assert not row.verify_button.disabled
    record = mock_emulator.backend._custom[image.image_id]  # the record, not a copy
    record.status, record.cached_json = "CREATING", None
    await controller.refresh()
    row = view.rows[image.image_id]
    assert row.verify_button.disabled and row.launch_button.disabled and row.restore_button.disabled
    assert "Wait until it is AVAILABLE" in row.restore_button.tooltip
    view.close()


async def test_the_restore_question_names_the_instance_and_enables_only_on_the_typed_name(controller, mock_emulator) -> None:
    from zenlayer_widgets.widgets.inventory_view import InventoryView

    image = await made_image(controller, mock_emulator)
    view = InventoryView(controller)
    row = view.rows[image.image_id]
    await controller.open_row_action(image.image_id, RESTORE)
    question = row.action
    assert question in row.children and question.chooser.value == ids_by_name(mock_emulator)["db-hkg-01"]
    assert "db-hkg-01" in question.ask.value and "formatted" in question.ask.value and "cannot be undone" in question.ask.value
    assert question.go_button.disabled
    question.typed.value = "db-hkg-0"
    assert question.go_button.disabled
    question.typed.value = "db-hkg-01"
    assert not question.go_button.disabled
    question.chooser.value = ids_by_name(mock_emulator)["web-hkg-01"]  # RUNNING: said, and the name must match again
    assert question.go_button.disabled and "stopped gracefully first" in question.ask.value
    question.cancel_button.click()
    assert question not in row.children
    view.close()


async def test_the_verify_question_shows_the_price_before_its_button_and_launch_offers_the_source(controller,
                                                                                                 mock_emulator) -> None:
    from zenlayer_widgets.widgets.inventory_view import InventoryView

    image = await made_image(controller, mock_emulator)
    view = InventoryView(controller)
    row = view.rows[image.image_id]
    await controller.open_row_action(image.image_id, VERIFY)
    price = controller.row_price[1]
    assert f"{price:g} per hour" in row.action.ask.value and "released" in row.action.ask.value
    assert not row.action.go_button.disabled
    await controller.open_row_action(image.image_id, LAUNCH)
    question = row.action
    assert question.chooser.value == ids_by_name(mock_emulator)["db-hkg-01"] and question.new_name.value == "db-hkg-01-copy"
    assert "per hour" in question.ask.value and not question.go_button.disabled
    question.new_name.value = "no spaces allowed"
    assert question.go_button.disabled
    view.close()


async def test_a_row_question_reads_no_ledger_while_it_renders(controller, mock_emulator, monkeypatch) -> None:
    """Opening Restore renders the chooser with the image's source chosen: from what load/refresh read, no query."""
    from zenlayer_widgets.studio import proof_actions
    from zenlayer_widgets.widgets.inventory_view import InventoryView

    image = await made_image(controller, mock_emulator)
    view = InventoryView(controller)
    reads: list[object] = []
    real = proof_actions.ledger_for
    monkeypatch.setattr(proof_actions, "ledger_for", lambda client: reads.append(client) or real(client))
    await controller.open_row_action(image.image_id, RESTORE)
    assert view.rows[image.image_id].action.chooser.value == ids_by_name(mock_emulator)["db-hkg-01"]
    assert reads == []  # the row's question rendered without a ledger query
    view.close()
