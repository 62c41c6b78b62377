"""connect(): the credentials chain, several accounts in one kernel, and no silent sandbox."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

import zenlayer_widgets as zw
from zenlayer_widgets.api import CredentialsError
from zenlayer_widgets.emulator import start_emulator
from zenlayer_widgets.emulator.sandbox import STATE_FILE

SECRET_A = "secret-of-account-a-do-not-leak"
SECRET_B = "secret-of-account-b-do-not-leak"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME of this test's own, and a sandbox directory that must stay unused unless a test says so."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ZENLAYER_SANDBOX_DIR", str(Path(os.environ["ZENLAYER_SANDBOX_DIR"]).parent / f"acc-{uuid.uuid4().hex[:8]}"))
    (tmp_path / ".zenlayer").mkdir()
    return tmp_path


def write_profiles(home: Path, profiles: dict) -> None:
    path = home / ".zenlayer" / "credentials.json"
    path.write_text(json.dumps(profiles), encoding="utf-8")
    path.chmod(0o600)


def no_sandbox_started() -> bool:
    return not (Path(os.environ["ZENLAYER_SANDBOX_DIR"]) / STATE_FILE).exists()


@pytest.mark.parametrize("environ", [
    {"ZENLAYER_PROFILE": "staging", "ZENLAYER_BASE_URL": "https://console.zenlayer.com"},  # the case
    {"ZENLAYER_PROFILE": "staging"},
    {"ZENLAYER_BASE_URL": "https://console.zenlayer.com"},
    {"ZENLAYERCLOUD_DOMAIN": "console.zenlayer.com"},
    {"ZENLAYER_ACCESS_KEY_ID": "AKID-ONLY"},
    {"ZENLAYERCLOUD_ACCESS_KEY_PASSWORD": SECRET_A},
])
def test_signs_of_a_real_account_without_credentials_never_give_the_sandbox(home, monkeypatch, environ) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(CredentialsError) as caught:
        zw.connect()
    message = str(caught.value)
    assert SECRET_A not in message
    assert any(name in message for name in environ) or "staging" in message
    assert no_sandbox_started()


def test_a_missing_profile_argument_is_an_error_not_the_sandbox(home) -> None:
    write_profiles(home, {"prod": {"token": "tok"}})
    with pytest.raises(CredentialsError, match="No Zenlayer profile 'staging'.*only: prod"):
        zw.connect(profile="staging")
    assert no_sandbox_started()


def test_zeno_variables_work_against_an_api(home, monkeypatch) -> None:
    with start_emulator(access_key_id="AKID-ZENO", access_key_password=SECRET_A) as api:
        monkeypatch.setenv("ZENLAYER_ACCESS_KEY_ID", "AKID-ZENO")
        monkeypatch.setenv("ZENLAYER_ACCESS_KEY_SECRET", SECRET_A)
        monkeypatch.setenv("ZENLAYER_BASE_URL", api.url)
        with zw.connect() as client:
            assert not client.sandbox and len(client.describe_zones()) == 7
            line = zw.describe_connection(client)
    assert "ZENLAYER_ACCESS_KEY_SECRET" in line and "AKID-ZENO" in line and SECRET_A not in line


def test_terraform_variables_and_domain_work_against_an_api(home, monkeypatch) -> None:
    with start_emulator(access_key_id="AKID-TF", access_key_password=SECRET_B) as api:
        monkeypatch.setenv("ZENLAYERCLOUD_ACCESS_KEY_ID", "AKID-TF")
        monkeypatch.setenv("ZENLAYERCLOUD_ACCESS_KEY_PASSWORD", SECRET_B)
        monkeypatch.setenv("ZENLAYERCLOUD_SCHEME", "http")
        monkeypatch.setenv("ZENLAYERCLOUD_DOMAIN", api.host_port)
        with zw.connect() as client:
            assert client.base_url == api.url and len(client.describe_zones()) == 7


def test_two_profiles_in_one_kernel(home) -> None:
    with start_emulator(access_key_id="AKID-A", access_key_password=SECRET_A) as a, \
         start_emulator(access_key_id="AKID-B", access_key_password=SECRET_B, seed="empty") as b:
        write_profiles(home, {"prod": {"access_key_id": "AKID-A", "access_key_secret": SECRET_A},
                              "lab": {"access_key_id": "AKID-B", "access_key_secret": SECRET_B}})
        with zw.connect(profile="prod", base_url=a.url) as prod, zw.connect(profile="lab", base_url=b.url) as lab:
            assert len(prod.list_instances()) == 16 and lab.list_instances() == []
            assert prod.credentials.profile == "prod" and lab.credentials.profile == "lab"
            lines = zw.describe_connection(prod) + zw.describe_connection(lab)
        assert "profile 'prod' in ~/.zenlayer/credentials.json" in lines and "profile 'lab'" in lines
        assert SECRET_A not in lines and SECRET_B not in lines
        assert [(p.name, p.kind) for p in zw.list_profiles()] == [("prod", "access_key"), ("lab", "access_key")]


def test_the_sandbox_is_used_only_when_nothing_is_configured(home) -> None:
    with zw.connect() as client:
        assert client.sandbox and client.base_url.startswith("http://127.0.0.1:")
        assert zw.describe_connection(client).startswith("Sandbox: the built-in Zenlayer API emulator")
    from zenlayer_widgets.emulator.sandbox import stop_sandbox

    assert stop_sandbox(Path(os.environ["ZENLAYER_SANDBOX_DIR"]))


def test_sandbox_true_with_a_profile_is_a_contradiction(home) -> None:
    with pytest.raises(ValueError, match="not both"):
        zw.connect(profile="prod", sandbox=True)
