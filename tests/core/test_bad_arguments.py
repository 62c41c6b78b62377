"""``zw.preflight`` and ``zw.create_image`` with None, bytes or a list where an id or a name goes: a plain
TypeError naming the parameter, and no image made (against the in-process emulator)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import zenlayer_widgets as zw
from zenlayer_widgets.api import ZenlayerClient
from zenlayer_widgets.emulator import InProcessEmulator, mock_zenlayer

BUILD = "build-hkg-01"  # STOPPED in the demo fleet: a create would go through


@pytest.fixture(scope="module")
def mock_emulator() -> Iterator[InProcessEmulator]:
    with mock_zenlayer(transition_seconds=0.2) as running:
        yield running


@pytest.fixture
def mock_client(mock_emulator) -> Iterator[ZenlayerClient]:
    with mock_emulator.client() as c:  # a real-account client (not sandbox-flagged), as before
        yield c


def build_id(mock_emulator) -> str:
    return next(i.instance_id for i in mock_emulator.backend.instances.values() if i.instance_name == BUILD)


BAD = [
    pytest.param("instance_id", None, "instance_id must be a string, not None", id="none-id"),
    pytest.param("instance_id", b"i-1", "instance_id must be a string, not bytes", id="bytes-id"),
    pytest.param("instance_id", ["i-1"], "instance_id must be a string, not a list", id="list-id"),
    pytest.param("image_name", None, "image_name must be a string, not None", id="none-name"),
    pytest.param("image_name", b"backup", "image_name must be a string, not bytes", id="bytes-name"),
    pytest.param("image_name", ["backup"], "image_name must be a string, not a list", id="list-name"),
    pytest.param("description", b"made today", "description must be a string, not bytes", id="bytes-description"),
    pytest.param("description", ["made"], "description must be a string, not a list", id="list-description"),
]


def arguments(mock_emulator, name: str, value: object) -> dict[str, object]:
    good = {"instance_id": build_id(mock_emulator), "image_name": "typed-args", "description": "ok"}
    return {**good, name: value}


@pytest.mark.parametrize(("name", "value", "said"), BAD)
def test_preflight_names_the_bad_parameter(mock_emulator, mock_client, name, value, said) -> None:
    with pytest.raises(TypeError) as caught:
        zw.preflight(mock_client, **arguments(mock_emulator, name, value))
    assert said in str(caught.value)


@pytest.mark.parametrize(("name", "value", "said"), BAD)
def test_create_image_names_the_bad_parameter_and_changes_nothing(mock_emulator, mock_client, name, value, said) -> None:
    before = {i.image_id for i in mock_emulator.backend.images.values()}
    with pytest.raises(TypeError) as caught:
        zw.create_image(mock_client, **arguments(mock_emulator, name, value), wait=False)
    assert said in str(caught.value)
    assert {i.image_id for i in mock_emulator.backend.images.values()} == before


def test_empty_strings_still_get_the_checks_verdict(mock_emulator, mock_client) -> None:
    checks = zw.preflight(mock_client, "", "")
    assert not checks.ok and "Choose an instance" in checks.summary()
    checks = zw.preflight(mock_client, build_id(mock_emulator), "")
    assert "Enter an image name" in checks.summary()
