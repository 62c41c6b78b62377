"""Credentials from arguments, the environment and a profile file; the secrets never show."""

from __future__ import annotations

from pathlib import Path

import pytest

from zenlayer_widgets.api import BearerAuth, Credentials, CredentialsError, ZC2Auth, ZenlayerClient

from .stub import KEY_ID, PASSWORD, TOKEN


def write_profile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "credentials"
    path.write_text(text, encoding="utf-8")
    return path


def test_repr_and_str_show_the_key_id_only() -> None:
    pair = Credentials(access_key_id=KEY_ID, access_key_password=PASSWORD)
    token = Credentials(token=TOKEN)
    for text in (repr(pair), str(pair), f"{pair}", repr(token), str(token), repr([pair, token])):
        assert PASSWORD not in text and TOKEN not in text
    assert KEY_ID in repr(pair)


def test_credentials_are_frozen() -> None:
    pair = Credentials(KEY_ID, PASSWORD)
    with pytest.raises(AttributeError):
        pair.access_key_password = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "kind", "auth_type"),
    [
        ({"access_key_id": KEY_ID, "access_key_password": PASSWORD}, "access_key", ZC2Auth),
        ({"token": TOKEN}, "token", BearerAuth),
        ({"access_key_id": KEY_ID, "access_key_password": PASSWORD, "token": TOKEN}, "access_key", ZC2Auth),
        ({"access_key_id": KEY_ID, "token": TOKEN}, "token", BearerAuth),
    ],
)
def test_kind_and_auth(kwargs, kind, auth_type) -> None:
    creds = Credentials(**kwargs)
    assert creds.kind == kind
    assert isinstance(creds.auth(), auth_type)


@pytest.mark.parametrize("kwargs", [{}, {"access_key_id": KEY_ID}, {"access_key_password": PASSWORD}, {"token": ""}])
def test_incomplete_credentials_are_refused_without_showing_a_secret(kwargs) -> None:
    with pytest.raises(CredentialsError) as caught:
        Credentials(**kwargs)
    assert PASSWORD not in str(caught.value)


def test_from_env() -> None:
    assert Credentials.from_env({}) is None
    pair = Credentials.from_env({"ZENLAYER_ACCESS_KEY_ID": f" {KEY_ID} ", "ZENLAYER_ACCESS_KEY_PASSWORD": f"{PASSWORD}\n"})
    assert pair == Credentials(KEY_ID, PASSWORD)
    assert Credentials.from_env({"ZENLAYER_TOKEN": TOKEN}) == Credentials(token=TOKEN)


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({"ZENLAYER_ACCESS_KEY_ID": KEY_ID}, "ZENLAYER_ACCESS_KEY_PASSWORD"),
        ({"ZENLAYER_ACCESS_KEY_PASSWORD": PASSWORD}, "ZENLAYER_ACCESS_KEY_ID"),
    ],
)
def test_from_env_names_what_is_missing(environ, missing) -> None:
    with pytest.raises(CredentialsError, match=missing) as caught:
        Credentials.from_env(environ)
    assert PASSWORD not in str(caught.value)


def test_from_profile(tmp_path: Path) -> None:
    path = write_profile(
        tmp_path,
        f"[default]\naccess_key_id = {KEY_ID}\naccess_key_password = {PASSWORD}%\n\n[ci]\ntoken = {TOKEN}\n",
    )
    assert Credentials.from_profile(path) == Credentials(KEY_ID, PASSWORD + "%")  # no % interpolation
    assert Credentials.from_profile(path, "ci") == Credentials(token=TOKEN)
    with pytest.raises(CredentialsError, match=r"\[prod\]"):
        Credentials.from_profile(path, "prod")


def test_the_default_profile_file_may_be_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Credentials.from_profile(environ={}) is None
    with pytest.raises(CredentialsError, match="does not exist"):
        Credentials.from_profile(environ={"ZENLAYER_CREDENTIALS_FILE": str(tmp_path / "nope")})
    (tmp_path / ".zenlayer").mkdir()
    write_profile(tmp_path / ".zenlayer", f"[default]\ntoken={TOKEN}\n")
    assert Credentials.from_profile(environ={}) == Credentials(token=TOKEN)


def test_an_unreadable_or_incomplete_profile_does_not_quote_the_file(tmp_path: Path) -> None:
    broken = write_profile(tmp_path, f"access_key_password = {PASSWORD}\n[default]\n")
    with pytest.raises(CredentialsError) as caught:
        Credentials.from_profile(broken)
    assert PASSWORD not in str(caught.value)
    half = tmp_path / "half"
    half.write_text(f"[default]\naccess_key_password = {PASSWORD}\n", encoding="utf-8")
    with pytest.raises(CredentialsError, match="access_key_id") as caught:
        Credentials.from_profile(half)
    assert PASSWORD not in str(caught.value)


def test_discover_prefers_the_environment_then_the_named_profile(tmp_path: Path) -> None:
    path = write_profile(tmp_path, f"[default]\ntoken = file-token\n[ops]\naccess_key_id={KEY_ID}\naccess_key_password={PASSWORD}\n")
    environ = {"ZENLAYER_CREDENTIALS_FILE": str(path)}
    assert Credentials.discover(environ) == Credentials(token="file-token")
    assert Credentials.discover({**environ, "ZENLAYER_PROFILE": "ops"}) == Credentials(KEY_ID, PASSWORD)
    assert Credentials.discover({**environ, "ZENLAYER_TOKEN": TOKEN}) == Credentials(token=TOKEN)


def test_a_client_without_credentials_explains_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ZENLAYER_ACCESS_KEY_ID", "ZENLAYER_ACCESS_KEY_PASSWORD", "ZENLAYER_TOKEN", "ZENLAYER_CREDENTIALS_FILE",
                 "ZENLAYER_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(CredentialsError, match="ZENLAYER_ACCESS_KEY_ID.*sandbox"):
        ZenlayerClient()
    monkeypatch.setenv("ZENLAYER_TOKEN", TOKEN)
    with ZenlayerClient() as client:
        assert client.credentials == Credentials(token=TOKEN)
