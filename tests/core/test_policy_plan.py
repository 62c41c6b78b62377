"""Rotation policies, before any change: the policy's rules, its names, and the plan (a dry run changes nothing)."""

from __future__ import annotations

import pytest

import zenlayer_widgets as zw
from zenlayer_widgets.core.ledger import Ledger
from zenlayer_widgets.core.policy.naming import MAX_PREFIX_LENGTH, name_pattern, next_name, stamp_of
from zenlayer_widgets.core.policy.records import runs
from zenlayer_widgets.rules import validate_image_name


def ids(emulator, *names: str) -> list[str]:
    return [emulator.backend.instance_named(name).instance_id for name in names]


def fleet(emulator) -> tuple[dict, dict]:
    """Every image (id -> name, status) and instance status: what a change would alter."""
    backend = emulator.backend
    return ({i: (r.image_name, r.status) for i, r in backend.images.items()},
            {i: r.status for i, r in backend.instances.items()})


def test_names_are_valid_distinct_and_a_prefix_that_cannot_fit_is_refused():
    stamp = stamp_of()
    first = next_name("nightly", stamp, set())
    second = next_name("nightly", stamp, {first})  # the same minute (or second) in the same zone
    assert first == f"nightly-{stamp}" and second == f"nightly-{stamp}a"
    longest = next_name("p" * MAX_PREFIX_LENGTH, stamp, {f"{'p' * MAX_PREFIX_LENGTH}-{stamp}"})
    assert all(validate_image_name(n).ok for n in (first, second, longest)) and len(longest) == 24
    assert name_pattern("nightly").match(second) and not name_pattern("nightly").match("nightly-20250301")
    with pytest.raises(ValueError, match="at most 9"):
        zw.Policy("nightly-db1", instance_ids=("1",))
    with pytest.raises(ValueError, match="cannot make a valid image name"):
        zw.Policy("night ly", instance_ids=("1",))
    with pytest.raises(ValueError, match="keep"):
        zw.Policy("nightly", keep=0, instance_ids=("1",))
    with pytest.raises(ValueError, match="instance_ids, or name_contains"):
        zw.Policy("nightly")


def test_dry_run_plans_every_case_and_changes_nothing(mock_emulator, tmp_path):
    client, ledger = mock_emulator.client(), Ledger(tmp_path / "ledger.sqlite3")
    chosen = ids(mock_emulator, "build-hkg-01", "db-hkg-01", "web-hkg-01", "api-fra-01", "edge-sin-01", "media-lax-02")
    before = fleet(mock_emulator)
    plan = zw.plan_rotation(client, zw.Policy("nightly", keep=2, instance_ids=(*chosen, "999")), ledger)
    assert fleet(mock_emulator) == before  # nothing changed
    assert ledger.entries() == [] and runs(ledger) == []  # and nothing was recorded
    table = plan.frame().set_index("instance")
    assert table.loc["build-hkg-01", "action"] == "create" and table.loc["db-hkg-01", "action"] == "create"
    names = {table.loc["build-hkg-01", "image_name"], table.loc["db-hkg-01", "image_name"]}
    assert len(names) == 2 and all(name_pattern("nightly").match(n) for n in names)  # distinct in one zone
    assert table.loc["build-hkg-01", "quota_before"] == "1/5" and table.loc["db-hkg-01", "quota_after"] == "3/5"
    assert table.loc["web-hkg-01", "reason"] == "it is RUNNING and this policy may not stop it"
    assert table.loc["api-fra-01", "action"] == "fail" and "full (5/5) of images this policy does not own" in \
        table.loc["api-fra-01", "reason"]
    assert "does not support custom images" in table.loc["edge-sin-01", "reason"]
    assert "does not support custom images" in table.loc["media-lax-02", "reason"]
    assert plan.frame().set_index("instance_id").loc["999", "reason"] == "no such instance"
    quota = plan.quota_frame().set_index("zone")
    assert quota.loc["HKG-A", "used_before"] == 1 and quota.loc["HKG-A", "used_after"] == 3
    assert not plan.ok and "2 to create" in plan.summary()


def test_plan_by_name_filter_and_zone(mock_emulator):
    plan = zw.plan_rotation(mock_emulator.client(), zw.Policy("nightly", name_contains="-hkg-", zones=("HKG-A",)))
    assert sorted(plan.frame()["instance"]) == ["build-hkg-01", "cache-hkg-01", "db-hkg-01", "web-hkg-01"]


def test_plan_skips_an_instance_whose_policy_image_is_still_creating(tmp_path):
    from zenlayer_widgets.emulator import mock_zenlayer

    with mock_zenlayer(transition_seconds=3600) as emulator:  # images stay CREATING
        client, ledger = emulator.client(), Ledger(tmp_path / "ledger.sqlite3")
        policy = zw.Policy("nightly", keep=2, instance_ids=tuple(ids(emulator, "build-hkg-01")))
        task_run = zw.plan_rotation(client, policy, ledger)
        assert task_run.creates
        import asyncio

        from zenlayer_widgets._runner import background_loop

        future = asyncio.run_coroutine_threadsafe(zw.apply_rotation_async(client, policy, ledger, poll_interval=0.1),
                                                  background_loop())
        import time

        deadline = time.monotonic() + 10
        while not any(r.status == "CREATING" for r in emulator.backend.images.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        future.cancel()  # the run is interrupted while its image is CREATING
        time.sleep(0.2)
        plan = zw.plan_rotation(client, policy, ledger)
        row = plan.frame().iloc[0]
        assert row["action"] == "skip" and "is still CREATING" in row["reason"]


def test_instance_ids_from_runbook_parameters():
    from zenlayer_widgets.core.policy import parse_instance_ids

    assert parse_instance_ids("a, b,,a\nc") == ("a", "b", "c")
    assert parse_instance_ids(2727883571150) == ("2727883571150",)  # papermill passes numeric text as an int
    assert parse_instance_ids([2727883571150, " x "]) == ("2727883571150", "x")
    assert parse_instance_ids("") == () and parse_instance_ids(None) == ()
    with pytest.raises(TypeError, match="comma-separated text or a list"):
        parse_instance_ids({"a": 1})
    with pytest.raises(TypeError):
        parse_instance_ids([None])


def test_the_inventory_marks_policy_images_and_their_age_and_nothing_else(mock_emulator, tmp_path):
    from zenlayer_widgets.core.ledger import account_of

    client, ledger = mock_emulator.client(), Ledger(tmp_path / "ledger.sqlite3")
    build = ids(mock_emulator, "build-hkg-01")
    zw.create_image(client, build[0], "nightly-20200101T0000", poll_interval=0.1)  # looks like it, is not
    outcome = zw.apply_rotation(client, zw.Policy("nightly", instance_ids=build), ledger, poll_interval=0.1)
    marked = zw.mark_policy_images(zw.load_inventory(client).images, ledger, account_of(client)).set_index("name")
    made = outcome.results[0].image_name
    assert marked.loc[made, "policy"] == "nightly" and 0 < marked.loc[made, "age"].total_seconds() < 60
    assert marked.loc["nightly-20200101T0000", "policy"] == "" and str(marked.loc["web-golden-2025", "age"]) == "NaT"
