"""Our own clients (sync and async) end to end against the emulator on a real loopback port."""

from __future__ import annotations

import pytest

from zenlayer_widgets.api import (
    AsyncZenlayerClient,
    AuthError,
    Credentials,
    InvalidParameter,
    InvalidState,
    NotFound,
    OutcomeUnknown,
    QuotaExceeded,
    RateLimited,
    ServerError,
    ZenlayerClient,
    errors,
)
from zenlayer_widgets.emulator import start_emulator

from .helpers import wait_for


def key_pair(emulator, password: str | None = None) -> Credentials:
    return Credentials(access_key_id=emulator.access_key_id, access_key_password=password or emulator.access_key_password)


def client_for(emulator, credentials: Credentials | None = None, **options) -> ZenlayerClient:
    return ZenlayerClient(credentials or key_pair(emulator), base_url=emulator.url, sleep=lambda seconds: None, **options)


async def _no_sleep(seconds: float) -> None:
    return None


def test_sync_client_full_image_cycle(emulator):
    with client_for(emulator) as client:
        zones = {zone.zone_id: zone for zone in client.describe_zones()}
        assert {"HKG-A", "SEL-A", "FRA-A", "SIN-E", "LAX-A"} <= set(zones)
        hkg = {i.instance_name: i for i in client.list_instances(zone_id="HKG-A")}
        web, build = hkg["web-hkg-01"], hkg["build-hkg-01"]
        assert web.instance_status == "RUNNING" and build.system_disk_size == 60

        client.stop_instances([web.instance_id])
        wait_for(lambda: client.describe_instances_status([web.instance_id]).items[0].instance_status == "STOPPED")
        emulator.backend.transition_seconds = 3600  # the image is CREATING until the test moves the clock
        created = client.create_image(build.instance_id, "client-e2e", "made by our client")
        assert created.image_id.startswith("img-")

        def image():
            return client.describe_images("HKG-A", image_ids=[created.image_id]).items[0]

        assert image().image_status == "CREATING" and image().zone_id == "HKG-A"
        emulator.backend.advance(3600)
        wait_for(lambda: image().image_status == "AVAILABLE")
        assert image().image_size == 60
        quota = {q.zone_id: q for q in client.describe_image_quota(["HKG-A"])}["HKG-A"]
        assert (quota.count, quota.max_count, quota.free) == (2, 5, 3)
        client.modify_images_attributes([created.image_id], image_name="client-e2e-2")
        assert image().image_name == "client-e2e-2"
        client.delete_images([created.image_id])
        assert client.describe_images("HKG-A", image_ids=[created.image_id]).total_count == 0
        assert client.describe_image_quota(["HKG-A"])[0].count == 1
        # raw UTF-8 bodies (not \u escapes) verify too
        chinese = client.create_image(hkg["db-hkg-01"].instance_id, "镜像-备份", "数据库 备份")
        assert client.describe_images("HKG-A", image_ids=[chinese.image_id]).items[0].image_name == "镜像-备份"


def test_sync_client_maps_every_rule_to_its_error_class(emulator):
    with client_for(emulator) as client:
        by_name = {i.instance_name: i.instance_id for i in client.list_instances()}
        cases = [
            (lambda: client.create_image(by_name["web-hkg-01"], "x"), InvalidState, errors.UNSUPPORTED_OPERATION_INSTANCE_STATE_STARTING),
            (lambda: client.create_image(by_name["api-fra-01"], "x"), QuotaExceeded, errors.LIMIT_EXCEEDED_IMAGE_QUOTA),
            (lambda: client.create_image(by_name["edge-sin-01"], "x"), InvalidState, errors.UNSUPPORTED_OPERATION_ZONE_NOT_SUPPORT),
            (lambda: client.create_image(by_name["build-hkg-01"], "bad name"), InvalidParameter, errors.INVALID_IMAGE_NAME),
            (lambda: client.create_image(by_name["build-hkg-01"], "web-golden-2025"), InvalidParameter, errors.IMAGE_NAME_DUPLICATE),
            (lambda: client.create_image("999", "x"), NotFound, errors.INVALID_INSTANCE_NOT_FOUND),
            (lambda: client.start_instances([by_name["web-hkg-01"]]), InvalidState, errors.OPERATION_DENIED_INSTANCE_NOT_STOPPED),
            (lambda: client.describe_images("XXX-Z"), NotFound, errors.INVALID_ZONE_NOT_FOUND),
        ]
        for action, error_class, code in cases:
            with pytest.raises(error_class) as info:
                action()
            assert info.value.code == code and info.value.request_id.startswith("T")


def test_sync_client_auth(emulator):
    with client_for(emulator, key_pair(emulator, "wrong-password")) as client:
        with pytest.raises(AuthError) as info:
            client.describe_zones()
        assert info.value.code == errors.AUTH_FAILURE_SIGNATURE and "wrong-password" not in str(info.value)
    with client_for(emulator, Credentials(token=emulator.token)) as client:
        assert client.describe_zones()
    with client_for(emulator, Credentials(token="wrong")) as client:
        with pytest.raises(AuthError):
            client.describe_zones()


@pytest.mark.parametrize("api_version", ["2023-03-13", "2026-04-01"])
def test_sync_client_lists_every_instance_of_a_large_fleet(api_version):
    with start_emulator(instances=2500) as emulator, client_for(emulator, api_version=api_version) as client:
        instances = client.list_instances()
        assert len({i.instance_id for i in instances}) == 2500
        zones = client.describe_zones()
        assert all((zone.network_line_type is not None) == (api_version == "2026-04-01") for zone in zones)


def test_sync_client_under_faults(emulator):
    backend = emulator.backend
    with client_for(emulator, max_throttle_retries=2) as client:
        emulator.set_faults(["*:throttle:1"])
        with pytest.raises(RateLimited):
            client.describe_zones()
        emulator.set_faults(["DescribeZones:throttle:0.5"])
        assert client.describe_zones()  # retried through
        emulator.set_faults(["DescribeImageQuota:error:1"])
        with pytest.raises(ServerError):
            client.describe_image_quota()
        emulator.set_faults(["CreateImage:lost_response:1"])
        build = backend.instance_named("build-hkg-01").instance_id
        sent_before = client.request_count
        with pytest.raises(OutcomeUnknown):
            client.create_image(build, "lost-response")
        assert client.request_count == sent_before + 1  # never retried blindly
        assert any(i.image_name == "lost-response" for i in backend.images.values())


async def test_async_client_end_to_end(emulator):
    emulator.backend.transition_seconds = 3600  # CREATING (the disk IMAGING) until the test moves the clock
    credentials = Credentials(access_key_id=emulator.access_key_id, access_key_password=emulator.access_key_password)
    async with AsyncZenlayerClient(credentials, base_url=emulator.url, sleep=_no_sleep, api_version="2026-04-01") as client:
        zones = await client.describe_zones(["HKG-A"])
        assert zones[0].network_line_type == "CN2"
        instances = {i.instance_name: i for i in await client.list_instances(zone_id="HKG-A")}
        created = await client.create_image(instances["db-hkg-01"].instance_id, "async-e2e")
        page = await client.describe_images("HKG-A", image_ids=[created.image_id])
        assert page.items[0].image_status == "CREATING"
        with pytest.raises(InvalidState) as info:
            await client.create_image(instances["db-hkg-01"].instance_id, "again")
        assert info.value.code == errors.UNSUPPORTED_OPERATION_DISK_MAKING_IMAGE
        emulator.backend.advance(3600)
        page = await client.describe_images("HKG-A", image_ids=[created.image_id])
        assert page.items[0].image_status == "AVAILABLE"
        statuses = await client.list_instance_statuses()
        assert len(statuses) == len(emulator.backend.instances)
        await client.delete_images([created.image_id])
        assert (await client.describe_image_quota(["HKG-A"]))[0].count == 1


async def test_async_client_faults_and_tokens(emulator):
    emulator.set_faults(["StopInstances:lost_response:1"])
    web = emulator.backend.instance_named("web-hkg-01").instance_id
    async with AsyncZenlayerClient(Credentials(token=emulator.token), base_url=emulator.url, sleep=_no_sleep) as client:
        with pytest.raises(OutcomeUnknown):
            await client.stop_instances([web])
        assert emulator.backend.instances[web].status in ("STOPPING", "STOPPED")
    async with AsyncZenlayerClient(Credentials(token="nope"), base_url=emulator.url, sleep=_no_sleep) as client:
        with pytest.raises(AuthError):
            await client.describe_zones()
