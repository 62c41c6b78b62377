"""Real behaviour the demo used to lack: DescribeImage, UNAVAILABLE images, the other instance states,
instances that differ (data disks, key pairs, IPv6, PREPAID), and a state that survives a restart."""

from __future__ import annotations

import pytest

from zenlayer_widgets import rules
from zenlayer_widgets.api import Credentials, InvalidState, NotFound, ZenlayerClient
from zenlayer_widgets.emulator import EmulatorBackend, parse_fault, start_emulator
from zenlayer_widgets.emulator.records import LaunchSpec

from .helpers import wait_for


def client_for(emulator) -> ZenlayerClient:
    return ZenlayerClient(Credentials(emulator.access_key_id, emulator.access_key_password), base_url=emulator.url)


def test_describe_image_answers_public_and_custom_images(emulator) -> None:
    backend = emulator.backend
    custom = next(i for i in backend.images.values() if i.image_name == "web-golden-2025")
    public = next(i for i in backend.images.values() if i.zone_id is None)
    with client_for(emulator) as client:
        image = client.describe_image(custom.image_id)
        assert (image.image_name, image.image_status, image.zone_id, image.is_custom) == ("web-golden-2025", "AVAILABLE", "HKG-A", True)
        assert client.describe_image(public.image_id).image_type == "PUBLIC_IMAGE"
        with pytest.raises(NotFound, match="INVALID_IMAGE_NOT_FOUND"):
            client.describe_image("img-doesnotexist")


def test_the_unavailable_fault_makes_the_next_image_fail(emulator) -> None:
    emulator.backend.transition_seconds = 3600  # CREATING until the test moves the clock
    emulator.set_faults(["CreateImage:unavailable:1"])
    build = emulator.backend.instance_named("build-hkg-01")
    with client_for(emulator) as client:
        image_id = client.create_image(build.instance_id, "doomed").image_id  # the request itself succeeds
        assert client.describe_image(image_id).image_status == "CREATING"
        emulator.backend.advance(3600)
        wait_for(lambda: client.describe_image(image_id).image_status == "UNAVAILABLE")
        statuses = {s.instance_id: s.instance_status for s in client.list_instance_statuses([build.instance_id])}
        assert statuses == {build.instance_id: "STOPPED"}  # the instance is free again
        assert [i.image_status for i in client.list_images("HKG-A", image_status="UNAVAILABLE")] == ["UNAVAILABLE"]


def test_the_unavailable_fault_is_for_create_image_only() -> None:
    with pytest.raises(ValueError, match="CreateImage only"):
        parse_fault("DescribeZones:unavailable:1")


def test_the_states_seed_has_every_instance_state_the_demo_lacks() -> None:
    with start_emulator(seed="states", transition_seconds=0.2) as emulator, client_for(emulator) as client:
        states = {i.instance_name: i.instance_status for i in client.list_instances(zone_id="TYO-A")}
        assert {states[n] for n in ("new-tyo-01", "reboot-tyo-01", "rebuild-tyo-01", "bin-tyo-01")} == {
            "PENDING", "REBOOT", "REBUILDING", "RECYCLING"}
        assert {s for s in states.values()} >= rules.TRANSITIONAL_INSTANCE_STATES & {"PENDING", "REBOOT", "REBUILDING", "RECYCLING"}
        [broken] = client.list_images("TYO-A", image_status="UNAVAILABLE")
        assert broken.image_name == "game-broken-1"
        recycling = emulator.backend.instance_named("bin-tyo-01")
        with pytest.raises(InvalidState, match="UNSUPPORTED_OPERATION_DISK_UNAVAILABLE"):
            client.create_image(recycling.instance_id, "from-the-bin")


def test_demo_instances_vary_as_real_ones_do_and_the_counts_stay(emulator) -> None:
    with client_for(emulator) as client:  # the raw answer: the typed models keep only the fields the studio uses
        fleet = client.call("DescribeInstances", {"pageSize": 1000})["dataSet"]
    assert len(fleet) == 16
    data_disks = [i for i in fleet if i["dataDisks"]]
    keyed = [i for i in fleet if i["keyId"]]
    ipv6 = [i for i in fleet if i["publicIpv6Addresses"]]
    prepaid = [i for i in fleet if i["instanceChargeType"] == "PREPAID"]
    assert data_disks and keyed and ipv6 and prepaid and len(prepaid) < len(fleet)
    assert all(i["period"] and i["expiredTime"] for i in prepaid)
    assert all(i["period"] is None for i in fleet if i["instanceChargeType"] == "POSTPAID")
    disk = data_disks[0]["dataDisks"][0]
    assert disk["diskSize"] > 0 and disk["diskCategory"] in ("STANDARD", "SSD") and disk["diskId"]


def test_export_and_import_keep_the_account_and_new_ids_stay_unique() -> None:
    first = EmulatorBackend(transition_seconds=3600)
    build = first.instance_named("build-hkg-01")
    made = first.create_image(build.instance_id, "saved-mid-create")
    first.stop_instances([first.instance_named("web-hkg-01").instance_id])
    second = EmulatorBackend(transition_seconds=3600)
    second.import_state(first.export_state())
    assert second.images[made.image_id].status == "CREATING"
    assert second.instance_named("web-hkg-01").status == "STOPPING"
    second.advance(3601)  # the pending transitions came along
    assert second.images[made.image_id].status == "AVAILABLE"
    assert second.instance_named("web-hkg-01").status == "STOPPED"
    assert second.instance_named("build-hkg-01").status == "STOPPED"
    again = second.create_image(second.instance_named("db-hkg-01").instance_id, "after-import")
    assert again.image_id not in first.images
    with pytest.raises(ValueError):
        second.import_state({"format": 99})


def test_every_change_is_reported_to_the_snapshot_hook(emulator) -> None:
    changes = []
    emulator.backend.on_change = lambda: changes.append(len(emulator.backend.export_state()["custom_images"]))
    with client_for(emulator) as client:
        build = emulator.backend.instance_named("build-hkg-01")
        image_id = client.create_image(build.instance_id, "hooked").image_id
        wait_for(lambda: client.describe_image(image_id).image_status == "AVAILABLE")
        client.modify_images_attributes([image_id], image_description="changed")
        client.delete_images([image_id])
        client.describe_zones()  # a read changes nothing
    assert changes == [13, 13, 12]


def test_saved_state_keeps_launches_recycle_bin_and_boot_failure():
    first = EmulatorBackend(transition_seconds=3600)
    image = next(i.image_id for i in first.images.values() if i.image_name == "Debian 12 x86 64-bit")
    first.fail_next_boot()
    _, (failing,) = first.create_instances(LaunchSpec("FRA-A", "z2a.c1m2", image, "will-fail", tags=[("intent", "a")]))
    _, (booting,) = first.create_instances(LaunchSpec("FRA-A", "z2a.c1m2", image, "will-boot", tags=[("intent", "b")]))
    web = first.instance_named("web-hkg-01").instance_id
    first.terminate_instance(web)
    second = EmulatorBackend(transition_seconds=3600)
    second.import_state(first.export_state())
    assert second.instances[booting].tags == [("intent", "b")] and second.instances[booting].image_id == image
    assert second.instances[web].status == "RECYCLING"
    second.advance(7201)
    assert (second.instances[failing].status, second.instances[booting].status) == ("CREATE_FAILED", "RUNNING")
    assert second.instances[web].status == "RECYCLE"
    second.release_instances([web])
    third = EmulatorBackend(transition_seconds=3600)
    third.import_state(second.export_state())
    assert web not in third.instances and third.instances[failing].status == "CREATE_FAILED"
    _, (again,) = third.create_instances(LaunchSpec("FRA-A", "z2a.c1m2", image, "after-import"))
    assert again not in first.instances and again not in second.instances
