"""Synthetic fleets: deterministic, quick to build, quick to page through, many concurrent keep-alive clients."""

from __future__ import annotations

import concurrent.futures

import httpx
import pytest

from zenlayer_widgets.emulator import EmulatorBackend, start_emulator

from .helpers import bearer_post


def test_synthetic_fleet_is_deterministic_and_spread():
    first, second = EmulatorBackend(instances=2000), EmulatorBackend(instances=2000)
    assert [(i.instance_id, i.instance_name, i.status) for i in first.instances.values()] == \
           [(i.instance_id, i.instance_name, i.status) for i in second.instances.values()]
    zones = {i.zone_id for i in first.instances.values()}
    statuses = {i.status for i in first.instances.values()}
    assert len(first.instances) == 2000 and len(zones) >= 10 and {"RUNNING", "STOPPED"} <= statuses
    assert any(i.image_type == "CUSTOM_IMAGE" for i in first.images.values())
    assert all(first.custom_image_count(z) <= 5 for z in zones)


@pytest.mark.parametrize("count", [2000, 10_000])
def test_large_fleets_page_completely(count):
    """Speed is measured in benchmarks/ (emulator throughput), not asserted here."""
    with start_emulator(instances=count) as emulator:
        seen: list[str] = []
        with httpx.Client() as client:
            for page in range(1, count // 1000 + 2):
                answer = bearer_post(emulator, "DescribeInstances", {"pageSize": 1000, "pageNum": page}, client=client).json()
                assert answer["response"]["totalCount"] == count
                seen += [i["instanceId"] for i in answer["response"]["dataSet"]]
        assert len(seen) == len(set(seen)) == count


def test_status_changes_show_in_cached_pages(slow_emulator):
    first = bearer_post(slow_emulator, "DescribeInstances", {"pageSize": 100}).json()["response"]["dataSet"]
    running = next(i for i in first if i["instanceStatus"] == "RUNNING")
    assert bearer_post(slow_emulator, "StopInstances", {"instanceIds": [running["instanceId"]]}).status_code == 200
    again = bearer_post(slow_emulator, "DescribeInstances", {"pageSize": 100}).json()["response"]["dataSet"]
    assert next(i for i in again if i["instanceId"] == running["instanceId"])["instanceStatus"] == "STOPPING"


def test_many_concurrent_keep_alive_clients():
    with start_emulator(instances=2000, latency_ms=5) as emulator:
        def worker(number: int) -> list[int]:
            with httpx.Client() as client:
                return [bearer_post(emulator, "DescribeInstances", {"pageSize": 50, "pageNum": number % 40 + 1},
                                    client=client).status_code for _ in range(20)]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = [status for batch in pool.map(worker, range(8)) for status in batch]
        assert results == [200] * 160
