"""The studio's behaviour through its controller, against the in-process emulator (no socket)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from shared import credentials_for, ids_by_name
from zenlayer_widgets.studio.controller import StudioController


def custom_images(mock_emulator, zone: str) -> list[str]:
    return sorted(i.image_name for i in mock_emulator.backend.images.values() if i.zone_id == zone and i.image_type == "CUSTOM_IMAGE")


async def test_refresh_loads_instances_images_and_quota(controller):
    inventory = controller.inventory
    assert len(controller.instances) == 16
    assert inventory.quota_for("HKG-A").count == 1
    assert inventory.quota_for("SEL-A").count == 4
    assert inventory.quota_for("FRA-A").count == 5
    assert inventory.images_in("FRA-A")["name"].tolist()[:1] == ["api-release-1"]
    web = controller.instances.set_index("name").loc["web-hkg-01"]
    assert web["power_state"] == "RUNNING" and web["zone"] == "HKG-A"


async def test_running_instance_blocks_submit_until_stopped_through_the_form(controller, mock_emulator):
    web = ids_by_name(mock_emulator)["web-hkg-01"]
    controller.select(web)
    controller.set_name("web-golden-2026")
    assert not controller.can_submit
    assert controller.preflight.check("power_state").fix == "stop_instance"
    assert await controller.submit() is None
    seen: list[str] = []
    mock_emulator.backend.transition_seconds = 3600  # STOPPING until the form has shown it (then the clock moves)

    def shown(_change) -> None:
        seen.append(controller.selected_instance.instance_status)
        if seen[-1] == "STOPPING":
            mock_emulator.backend.advance(3600)

    controller.observe(shown, "instances")
    controller.request_stop()
    assert controller.confirming_stop
    await controller.confirm_stop()
    assert "STOPPING" in seen and controller.selected_instance.instance_status == "STOPPED"
    assert mock_emulator.backend.instances[web].status == "STOPPED"
    assert controller.can_submit


async def test_cancelled_stop_changes_nothing(controller, mock_emulator):
    web = ids_by_name(mock_emulator)["web-hkg-01"]
    controller.select(web)
    controller.request_stop()
    controller.cancel_stop()
    assert not controller.confirming_stop
    await asyncio.sleep(0.1)
    assert mock_emulator.backend.instances[web].status == "RUNNING"


async def test_chinese_name_creates_image_and_quota_goes_up(controller, mock_emulator):
    build = ids_by_name(mock_emulator)["build-hkg-01"]
    controller.select(build)
    controller.set_name("镜像备份-2026")
    controller.set_description("nightly")
    assert controller.can_submit, controller.preflight.summary()
    statuses: list[str] = []
    controller.observe(lambda change: statuses.append(change["new"].status) if change["new"] else None, "progress")
    result = await controller.submit()
    assert result is not None and result.status == "AVAILABLE"
    assert result.image_id.startswith("img-") and result.request_id.startswith("T")
    assert "CREATING" in statuses
    assert controller.inventory.quota_for("HKG-A").count == 2
    table = controller.inventory.images_in("HKG-A")
    assert table.set_index("name").loc["镜像备份-2026", "status"] == "AVAILABLE"
    assert custom_images(mock_emulator, "HKG-A") == ["web-golden-2025", "镜像备份-2026"]


async def test_invalid_name_blocks_submit_with_the_reason(controller, mock_emulator):
    controller.select(ids_by_name(mock_emulator)["build-hkg-01"])
    controller.set_name("nightly build!")
    assert not controller.can_submit
    assert controller.preflight.check("name").reason.startswith("A space at position 8 is not allowed")
    before = custom_images(mock_emulator, "HKG-A")
    assert await controller.submit() is None
    assert custom_images(mock_emulator, "HKG-A") == before


async def test_zone_that_refuses_images_is_refused_and_nothing_sent(controller, mock_emulator):
    controller.select(ids_by_name(mock_emulator)["edge-sin-01"])
    controller.set_name("edge-base")
    assert not controller.can_submit
    assert "SIN-E does not support custom images" in controller.preflight.check("zone").reason
    assert await controller.submit() is None
    assert custom_images(mock_emulator, "SIN-E") == []


async def test_filling_a_zone_to_five_then_refusal(controller, mock_emulator):
    controller.select(ids_by_name(mock_emulator)["app-sel-02"])
    controller.set_name("app-base-v4")
    result = await controller.submit()
    assert result is not None and controller.inventory.quota_for("SEL-A").count == 5
    controller.set_name("app-base-v5")
    assert not controller.can_submit
    assert "5 of 5" in controller.preflight.check("quota").reason
    assert len(custom_images(mock_emulator, "SEL-A")) == 5


async def test_name_already_used_in_zone_is_refused(controller, mock_emulator):
    controller.select(ids_by_name(mock_emulator)["build-hkg-01"])
    controller.set_name("web-golden-2025")
    assert not controller.preflight.check("unique_name").ok
    assert not controller.can_submit


async def test_double_submit_makes_one_image(controller, mock_emulator):
    controller.select(ids_by_name(mock_emulator)["build-hkg-01"])
    controller.set_name("once-only")
    first = controller.tasks.spawn(controller.submit())
    await asyncio.sleep(0)  # the first submit is now in flight
    second = await controller.submit()
    await first
    assert second is None
    assert custom_images(mock_emulator, "HKG-A").count("once-only") == 1


async def test_api_error_appears_in_the_form_with_code_and_request_id(mock_emulator, mock_aclient):
    mock_emulator.set_faults(["CreateImage:throttle:1.0"])
    async with mock_emulator.async_client(max_throttle_retries=0) as impatient:
        controller = StudioController(impatient, poll_interval=0.1)
        await controller.refresh()
        controller.select(ids_by_name(mock_emulator)["build-hkg-01"])
        controller.set_name("throttled")
        assert await controller.submit() is None
    assert controller.error is not None
    text = controller.error.text()
    assert "REQUEST_LIMIT_EXCEEDED" in text and "request id T" in text and "throttling" in text
    assert "throttled" not in custom_images(mock_emulator, "HKG-A")


async def test_wrong_secret_is_shown_and_nothing_loads(mock_emulator):
    secret = "definitely-wrong-secret-123"
    async with mock_emulator.async_client(credentials_for(mock_emulator, secret)) as wrong:
        controller = StudioController(wrong)
        await controller.refresh()
    assert controller.inventory is None
    text = controller.error.text()
    assert "AUTH_FAILURE" in text and "credentials were refused" in text
    assert secret not in text


async def test_stale_refresh_never_overwrites_a_newer_one(controller, monkeypatch):
    import zenlayer_widgets.studio.loading as module

    real = module.load_inventory_async
    gate = asyncio.Event()
    calls = 0

    async def slow_first(mock_client):
        nonlocal calls
        calls += 1
        result = await real(mock_client)
        if calls == 1:
            await gate.wait()  # the first answer arrives last
            return replace(result, zones=(), instance_list=())
        return result

    monkeypatch.setattr(module, "load_inventory_async", slow_first)
    older = controller.tasks.spawn(controller.refresh())
    await asyncio.sleep(0.05)
    await controller.refresh()
    gate.set()
    await older
    assert len(controller.instances) == 16  # the empty, older answer was dropped


async def test_auto_refresh_picks_up_a_state_change_made_elsewhere(controller, mock_emulator):
    web = ids_by_name(mock_emulator)["web-hkg-01"]
    controller.set_auto_refresh(True)
    mock_emulator.backend.stop_instances([web])
    for _ in range(100):
        await asyncio.sleep(0.05)
        state = controller.instances.set_index("instance_id").loc[web, "power_state"]
        if state == "STOPPED":
            break
    assert state == "STOPPED"
    controller.set_auto_refresh(False)


async def test_a_good_load_clears_only_the_error_a_load_showed(controller, mock_emulator):
    mock_emulator.set_faults(["DescribeZones:error:1.0"])
    await controller.refresh()
    assert controller.error.text().startswith("Loading the inventory failed")
    mock_emulator.set_faults([])
    await controller.refresh()
    assert controller.error is None
    mock_emulator.set_faults(["CreateImage:throttle:1.0"])  # a definite refusal (a 5xx would wait out the settle window)
    controller.select(ids_by_name(mock_emulator)["build-hkg-01"])
    controller.set_name("never-made")
    assert await controller.submit() is None  # the submit reloads the inventory when it ends
    assert controller.error.text().startswith("Creating image never-made of build-hkg-01 failed")  # names, not ids
    await controller.refresh()
    assert controller.error is not None and controller.error.text().startswith("Creating image never-made of build-hkg-01")
