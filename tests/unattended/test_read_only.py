"""Read-only mode: every write action is refused before anything is sent (counted at the emulator), reads work,
and ZENLAYER_READ_ONLY / a profile's ``read_only`` flag turn it on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zenlayer_widgets as zw
from zenlayer_widgets.api import ReadOnlyError
from zenlayer_widgets.api.vocabulary import ACTIONS, READ_ACTION_PREFIXES, WRITE_ACTIONS

INSTANCE = "1414024560606"  # a demo-fleet id (any id: nothing is sent)


class Counted:
    """The in-process emulator with every request it receives counted (by X-ZC-Action)."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.actions: list[str] = []
        handle = emulator.pipeline.handle

        def counting(request: Any) -> Any:
            self.actions.append(request.headers.get("x-zc-action", ""))
            return handle(request)

        emulator.pipeline.handle = counting


@pytest.fixture
def counted(mock_emulator: Any) -> Iterator[Counted]:
    yield Counted(mock_emulator)


def write_calls(client: Any) -> list[tuple[str, Any]]:
    """Every write action of the vocabulary as the client's own method, else through ``call``."""
    methods = {
        "CreateImage": lambda: client.create_image(INSTANCE, "ro-test", "x"),
        "DeleteImages": lambda: client.delete_images(["img-1"]),
        "ModifyImagesAttributes": lambda: client.modify_images_attributes(["img-1"], image_name="ro-new"),
        "StartInstances": lambda: client.start_instances([INSTANCE]),
        "StopInstances": lambda: client.stop_instances([INSTANCE]),
    }
    return [(action, methods.get(action, lambda a=action: client.call(a, {"instanceId": INSTANCE})))
            for action in WRITE_ACTIONS]


def test_the_vocabulary_classes_every_client_action() -> None:
    writes = [a for a in ACTIONS if not a.startswith(READ_ACTION_PREFIXES)]
    assert sorted(writes) == sorted(a for a in WRITE_ACTIONS if a in ACTIONS)
    assert {"CreateInstances", "ResetInstance", "TerminateInstance", "ReleaseInstances"} <= set(WRITE_ACTIONS)


def test_sync_client_refuses_every_write_action_and_sends_nothing(counted: Counted) -> None:
    client = counted.emulator.client(read_only=True)
    assert client.read_only is True
    for action, send in write_calls(client):
        with pytest.raises(ReadOnlyError, match=f"{action} refused: this client is read-only") as caught:
            send()
        assert caught.value.action == action
    assert counted.actions == []
    assert client.request_count == 0
    assert len(client.describe_zones()) > 0  # reads still work
    assert counted.actions == ["DescribeZones"]


def test_async_client_refuses_every_write_action_and_sends_nothing(counted: Counted) -> None:
    async def scenario() -> None:
        client = counted.emulator.async_client(read_only=True)
        for action, send in write_calls(client):
            with pytest.raises(ReadOnlyError, match=action):
                await send()
        assert counted.actions == []
        assert (await client.describe_instances()).total_count > 0
        await client.aclose()

    asyncio.run(scenario())
    assert counted.actions == ["DescribeInstances"]


def test_the_package_functions_run_on_a_read_only_twin(counted: Counted) -> None:
    client = counted.emulator.client(read_only=True)
    assert client.to_async().read_only is True
    with pytest.raises(ReadOnlyError, match="StartInstances"):
        zw.start_instance(client, INSTANCE)
    assert all(a.startswith(READ_ACTION_PREFIXES) for a in counted.actions)


def test_a_writable_client_still_writes(counted: Counted) -> None:
    client = counted.emulator.client()
    assert client.read_only is False
    client.stop_instances([INSTANCE])
    assert counted.actions == ["StopInstances"]


def test_connect_honours_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZENLAYER_ACCESS_KEY_ID", "ro-key")
    monkeypatch.setenv("ZENLAYER_ACCESS_KEY_PASSWORD", "ro-password-not-used")
    monkeypatch.setenv("ZENLAYER_BASE_URL", "http://ro.localhost")
    monkeypatch.setenv("ZENLAYER_READ_ONLY", "1")
    client = zw.connect()
    assert client.read_only is True
    with pytest.raises(ReadOnlyError):
        client.stop_instances([INSTANCE])
    assert client.request_count == 0
    assert zw.connect(read_only=False).read_only is False  # the argument wins
    monkeypatch.setenv("ZENLAYER_READ_ONLY", "0")
    assert zw.connect().read_only is False
    monkeypatch.setenv("ZENLAYER_READ_ONLY", "maybe")
    with pytest.raises(ValueError, match="ZENLAYER_READ_ONLY must be 1 or 0"):
        zw.connect()


def test_connect_honours_a_profile_flag(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"viewer": {"access_key_id": "v-key", "access_key_secret": "v-secret", "read_only": True},
                                "admin": {"access_key_id": "a-key", "access_key_secret": "a-secret"}}))
    path.chmod(0o600)
    monkeypatch.setenv("ZENLAYER_CREDENTIALS_FILE", str(path))
    monkeypatch.setenv("ZENLAYER_BASE_URL", "http://ro.localhost")
    viewer = zw.connect(profile="viewer")
    assert viewer.read_only is True
    with pytest.raises(ReadOnlyError, match="CreateImage"):
        viewer.create_image(INSTANCE, "ro-test")
    assert viewer.request_count == 0
    assert zw.connect(profile="admin").read_only is False
    assert "read_only=True" in repr(viewer)
    assert zw.describe_connection(viewer).startswith("Read-only (every change is refused before it is sent). Zenlayer")
