"""``python -m zenlayer_widgets.emulator`` as a subprocess: the official SDK's full image cycle, unchanged."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from zenlayercloud.common.config import Config
from zenlayercloud.common.credential import Credential
from zenlayercloud.vm.v20230313 import models
from zenlayercloud.vm.v20230313.vm_client import VmClient

from zenlayer_widgets.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_PASSWORD

KEY_ID, SECRET = "CLI-TEST-KEY", "cli-test-secret-value"


def start_cli(*args: str) -> tuple[subprocess.Popen, str, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "zenlayer_widgets.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    first = process.stdout.readline()
    second = process.stdout.readline()
    match = re.search(r"listening on (http://\S+)", first)
    if match is None:
        process.kill()
        pytest.fail(f"no URL printed: {first!r} {process.stderr.read()!r}")
    return process, match.group(1), first + second


@pytest.fixture
def cli() -> Iterator[tuple[str, str]]:
    # transitions last an hour: the test moves the clock (POST /_emulator/advance) when it wants one to end
    process, url, banner = start_cli("--transition-seconds", "3600", "--access-key-id", KEY_ID,
                                     "--access-key-password", SECRET)
    try:
        yield url, banner
    finally:
        process.terminate()
        assert process.wait(10) == 0


def test_official_sdk_full_cycle_against_the_cli(cli):
    url, banner = cli
    assert KEY_ID in banner and SECRET not in banner
    client = VmClient(Credential(KEY_ID, SECRET), Config(scheme="http", domain=url.removeprefix("http://")))

    def req(cls, **fields):
        r = cls()
        for key, value in fields.items():
            setattr(r, key, value)
        return r

    def advance() -> None:
        assert httpx.post(f"{url}/_emulator/advance", json={"seconds": 3600}).status_code == 200

    def wait(predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.05)

    instances = client.DescribeInstances(req(models.DescribeInstancesRequest, zoneId="HKG-A")).dataSet
    web = next(i for i in instances if i.instanceName == "web-hkg-01")
    assert web.instanceStatus == "RUNNING"

    def status():
        return client.DescribeInstancesStatus(
            req(models.DescribeInstancesStatusRequest, instanceIds=[web.instanceId])).dataSet[0].instanceStatus

    client.StopInstances(req(models.StopInstancesRequest, instanceIds=[web.instanceId]))
    advance()
    wait(lambda: status() == "STOPPED")
    quota_before = client.DescribeImageQuota(req(models.DescribeImageQuotaRequest, zoneIds=["HKG-A"])).images[0].count
    image_id = client.CreateImage(req(models.CreateImageRequest, instanceId=web.instanceId, imageName="web-cycle",
                                      imageDescription="from the CLI test")).imageId

    def image():
        return client.DescribeImages(req(models.DescribeImagesRequest, zoneId="HKG-A", imageIds=[image_id])).dataSet

    assert image()[0].imageStatus == "CREATING" and status() == "IMAGING"
    advance()
    wait(lambda: image()[0].imageStatus == "AVAILABLE")
    assert status() == "STOPPED" and image()[0].imageSize == str(web.systemDisk.diskSize)
    quota = client.DescribeImageQuota(req(models.DescribeImageQuotaRequest, zoneIds=["HKG-A"])).images[0]
    assert (quota.count, quota.maxCount) == (quota_before + 1, 5)
    client.DeleteImages(req(models.DeleteImagesRequest, imageIds=[image_id]))
    assert image() == []
    assert client.DescribeImageQuota(req(models.DescribeImageQuotaRequest, zoneIds=["HKG-A"])).images[0].count == quota_before


def test_cli_defaults_to_the_demo_credentials_and_faults_work():
    process, url, banner = start_cli("--fault", "DescribeZones:throttle:1", "--latency-ms", "1")
    try:
        assert DEMO_ACCESS_KEY_ID in banner
        client = VmClient(Credential(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_PASSWORD),
                          Config(scheme="http", domain=url.removeprefix("http://"), rate_limit_max_retries=0))
        with pytest.raises(Exception) as info:
            client.DescribeZones(models.DescribeZonesRequest())
        assert info.value.code == "REQUEST_LIMIT_EXCEEDED"
        assert client.DescribeImageQuota(models.DescribeImageQuotaRequest()).images
    finally:
        process.terminate()
        process.wait(10)


def test_cli_synthetic_fleet_banner():
    process, _, banner = start_cli("--instances", "300")
    process.terminate()
    process.wait(10)
    assert "300 instances" in banner


@pytest.mark.parametrize("args, message", [
    (["--fault", "CreateImage:explode:1"], "unknown kind"),
    (["--seed", "prod"], "invalid choice"),
    (["--transition-seconds", "-1"], "must be a finite number >= 0"),
    (["--latency-ms", "nan"], "must be a finite number >= 0"),
    (["--seed", "demo", "--instances", "5"], "not allowed with"),
])
def test_cli_refuses_bad_options(args, message):
    result = subprocess.run([sys.executable, "-m", "zenlayer_widgets.emulator", *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and message in result.stderr


def test_cli_reports_a_busy_port(emulator):
    result = subprocess.run([sys.executable, "-m", "zenlayer_widgets.emulator", "--port", str(emulator.port)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "cannot serve" in result.stderr


def test_cli_allows_duplicate_names_and_late_requests_when_asked():
    process, url, _ = start_cli("--allow-duplicate-names", "--late-seconds", "0.1", "--transition-seconds", "0")
    try:
        client = VmClient(Credential(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_PASSWORD),
                          Config(scheme="http", domain=url.removeprefix("http://")))
        instances = client.DescribeInstances(models.DescribeInstancesRequest()).dataSet
        ids = [i.instanceId for i in instances if i.instanceName in ("build-hkg-01", "db-hkg-01")]
        for instance in ids:
            request = models.CreateImageRequest()
            request.instanceId, request.imageName = instance, "same-name"
            client.CreateImage(request)
        listing = models.DescribeImagesRequest()
        listing.zoneId, listing.imageName = "HKG-A", "same-name"
        assert len(client.DescribeImages(listing).dataSet) == 2
    finally:
        process.terminate()
        process.wait(10)
    result = subprocess.run([sys.executable, "-m", "zenlayer_widgets.emulator", "--late-seconds", "-1"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "must be a finite number >= 0" in result.stderr
