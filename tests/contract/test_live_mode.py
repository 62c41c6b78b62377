"""The live mode, with an emulator server process standing in for the real API (base URL + key pair).

A nested ``pytest tests/contract`` with ZENLAYER_CONTRACT_LIVE=1 records snapshots; a nested
emulator run then compares against them, and fails, naming the difference, once one is changed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from zenlayer_widgets.emulator import EmulatorBackend

ROOT = Path(__file__).resolve().parents[2]
SECRET = "stand-in-api-secret-do-not-leak"
KEY_ID = "AKID-STAND-IN"


@pytest.fixture
def stand_in_api() -> Iterator[str]:
    """``python -m zenlayer_widgets.emulator`` on a free loopback port, with a key pair of its own."""
    process = subprocess.Popen(
        [sys.executable, "-m", "zenlayer_widgets.emulator", "--port", "0", "--access-key-id", KEY_ID,
         "--transition-seconds", "0.2"],
        env={**os.environ, "ZENLAYER_EMULATOR_ACCESS_KEY_PASSWORD": SECRET}, stdout=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        url = re.search(r"http://\S+", line).group(0)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def nested(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """``pytest tests/contract`` as a user runs it (``make contract``), this test file left out."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "contract"),
         "--ignore", str(Path(__file__)), *args],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )


def test_live_mode_records_snapshots_the_emulator_then_matches(stand_in_api: str, tmp_path: Path) -> None:
    snapshots = tmp_path / "snapshots"
    build = EmulatorBackend().instance_named("build-hkg-01")  # the stand-in's demo fleet has the same ids
    live = {"ZENLAYER_CONTRACT_LIVE": "1", "ZENLAYER_BASE_URL": stand_in_api, "ZENLAYER_ACCESS_KEY_ID": KEY_ID,
            "ZENLAYER_ACCESS_KEY_SECRET": SECRET, "ZENLAYER_CONTRACT_SNAPSHOTS": str(snapshots)}

    read_only = nested(live)
    assert read_only.returncode == 0, read_only.stdout + read_only.stderr
    assert "1 deselected" in read_only.stdout  # the write cycle only when asked for
    assert sorted(p.stem for p in snapshots.glob("*.json")) == [
        "bad_page_size", "bad_signature", "images", "instance_paging", "quota", "unknown_zone", "zones"]

    writes = nested({**live, "ZENLAYER_CONTRACT_WRITE": "1", "ZENLAYER_CONTRACT_DUPLICATE": "1",
                     "ZENLAYER_CONTRACT_INSTANCE": build.instance_id,
                     "ZENLAYER_CONTRACT_ZONE": "HKG-A"})
    assert writes.returncode == 0, writes.stdout + writes.stderr
    cycle = json.loads((snapshots / "write_cycle.json").read_text())
    assert cycle["api"] == stand_in_api and cycle["answer"]["final_status"] == "AVAILABLE"
    assert cycle["answer"]["duplicate_name"]["code"] == "INVALID_PARAMETER_IMAGE_NAME_DUPLICATE"
    assert json.loads((snapshots / "bad_signature.json").read_text())["answer"] == {
        "code": "AUTH_FAILURE_SIGNATURE_MISMATCH", "http_status": 401}
    for path in snapshots.glob("*.json"):
        assert SECRET not in path.read_text() and build.instance_id not in path.read_text(), path.name

    compared = nested({"ZENLAYER_CONTRACT_SNAPSHOTS": str(snapshots)})
    assert compared.returncode == 0, compared.stdout + compared.stderr

    recorded = json.loads((snapshots / "unknown_zone.json").read_text())
    recorded["answer"] = {"code": "Invalid.Zone.Not.Found", "http_status": 400}
    (snapshots / "unknown_zone.json").write_text(json.dumps(recorded))
    zones = json.loads((snapshots / "zones.json").read_text())
    zones["answer"]["zone_fields"].append("zoneRegion")
    (snapshots / "zones.json").write_text(json.dumps(zones))
    differs = nested({"ZENLAYER_CONTRACT_SNAPSHOTS": str(snapshots)})
    assert differs.returncode == 1
    assert "the live API answered 'Invalid.Zone.Not.Found', the emulator 'INVALID_ZONE_NOT_FOUND'" in differs.stdout
    assert "zone_fields: the emulator lacks ['zoneRegion']" in differs.stdout


def test_live_mode_without_credentials_says_what_to_do(tmp_path: Path) -> None:
    done = nested({"ZENLAYER_CONTRACT_LIVE": "1", "HOME": str(tmp_path), "ZENLAYER_CONTRACT_SNAPSHOTS": str(tmp_path)})
    assert done.returncode != 0 and "ZENLAYER_CONTRACT_LIVE=1 needs credentials" in done.stdout
