"""The activity lists verifies, launches and restores from the operations tables: one row per operation, with the
verification's throwaway and the hourly price; the kind and instance filters take them too."""

from __future__ import annotations

import pytest

import zenlayer_widgets as zw
from shared import ids_by_name
from zenlayer_widgets.studio.activity import Activity
from zenlayer_widgets.widgets.activity_view import activity_table

FAST = 0.1


def test_each_verify_launch_and_restore_is_one_row_with_its_throwaway_and_price(emulator, client, tmp_path):
    fleet = ids_by_name(emulator)
    build = fleet["build-hkg-01"]
    image = zw.create_image(client, build, "golden", poll_interval=FAST).image_id
    verified = zw.verify_image(client, image, poll_interval=FAST)
    emulator.set_faults(["CreateInstances:boot_failure:1"])
    failed = zw.verify_image(client, image, poll_interval=FAST)
    emulator.set_faults([])
    launched = zw.launch_from_image(client, image, like=build, name="golden-copy", password="Zw-Test-Pass-1!",
                                    poll_interval=FAST)
    restored = zw.restore_instance(client, build, image, confirm="build-hkg-01", backup=False,
                                   password="Zw-Test-Pass-1!", poll_interval=FAST)

    activity = Activity(lambda: client)
    activity.reload()
    rows = [r for r in activity.rows if r["kind"] in ("verify", "launch", "restore")]
    assert [r["kind"] for r in rows] == ["restore", "launch", "verify", "verify"]  # newest first, one row each
    restore, launch, no_boot, boot = rows
    assert (boot["outcome"], boot["throwaway"], boot["price"]) == ("booted", verified.instance_id, verified.price)
    assert (no_boot["outcome"], no_boot["throwaway"]) == ("did not boot", failed.instance_id)
    assert boot["image"] == image and boot["zone"] == "HKG-A" and boot["instance"] == ""
    assert (launch["instance"], launch["price"], launch["outcome"]) == (launched.instance_id, launched.price, "done")
    assert (restore["instance"], restore["image"], restore["outcome"]) == (restored.instance_id, image, "done")
    table = activity_table(activity.rows)
    assert "Throwaway" in table and "Price (/h)" in table and verified.instance_id in table

    activity.kind = "verify"
    assert [r["throwaway"] for r in activity.rows] == [failed.instance_id, verified.instance_id]
    activity.kind = ""
    activity.instance_id = launched.instance_id
    assert [r["kind"] for r in activity.rows] == ["launch"]
    activity.instance_id = ""
    activity.kind = "restore"
    assert [r["kind"] for r in activity.rows] == ["restore"]
    path = activity.export_csv(tmp_path)
    assert "throwaway,price" in path.read_text().splitlines()[0]


def test_an_unknown_kind_is_refused(emulator, client):
    activity = Activity(lambda: client)
    with pytest.raises(Exception, match="verify, launch, restore"):
        activity.kind = "reboot"
