"""Credentials from arguments, the environment (ours, zeno's, Terraform's) and zeno's profile files; the secrets never show."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from zenlayer_widgets.api import BearerAuth, Credentials, CredentialsError, ZC2Auth, ZenlayerClient
from zenlayer_widgets.api.profiles import CredentialsFileWarning, LegacyCredentialsImported, list_profiles

from .stub import KEY_ID, PASSWORD, TOKEN


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


# ---------------------------------------------------------------- zeno's profile files


def zeno_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profiles: dict | None = None,
              current: str | None = None, mode: int = 0o600) -> Path:
    """A HOME with zeno's ~/.zenlayer/credentials.json (and config.json when ``current`` is given)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = tmp_path / ".zenlayer"
    folder.mkdir(parents=True, exist_ok=True)
    if profiles is not None:
        path = folder / "credentials.json"
        path.write_text(json.dumps(profiles), encoding="utf-8")
        path.chmod(mode)
    if current is not None:
        (folder / "config.json").write_text(json.dumps({"current_profile": current, "profiles": {}}), encoding="utf-8")
    return folder


PROFILES = {
    "default": {"access_key_id": KEY_ID, "access_key_secret": PASSWORD},
    "ci": {"token": TOKEN},
    "staging": {"access_key_id": "AKID-STAGING", "access_key_secret": "staging-secret-value"},
}


def test_zeno_files_give_the_default_profile_and_say_where_from(tmp_path, monkeypatch) -> None:
    zeno_home(tmp_path, monkeypatch, PROFILES)
    found = Credentials.discover({})
    assert found == Credentials(KEY_ID, PASSWORD)
    assert (found.profile, found.source) == ("default", "profile 'default' in ~/.zenlayer/credentials.json")
    assert PASSWORD not in found.describe() and KEY_ID in found.describe()


def test_zeno_profile_from_zenlayer_profile_or_current_profile(tmp_path, monkeypatch) -> None:
    zeno_home(tmp_path, monkeypatch, PROFILES, current="staging")
    assert Credentials.discover({}).access_key_id == "AKID-STAGING"  # config.json's current_profile
    assert Credentials.discover({"ZENLAYER_PROFILE": "ci"}) == Credentials(token=TOKEN)  # the variable wins
    assert Credentials.discover({}, profile="default").profile == "default"  # and an argument wins over both


def test_the_environment_wins_over_the_files_as_in_zeno(tmp_path, monkeypatch) -> None:
    zeno_home(tmp_path, monkeypatch, PROFILES)
    found = Credentials.discover({"ZENLAYER_ACCESS_KEY_ID": "AKID-ENV", "ZENLAYER_ACCESS_KEY_SECRET": "env-secret"})
    assert found.access_key_id == "AKID-ENV" and "ZENLAYER_ACCESS_KEY_SECRET" in found.source and found.profile is None


@pytest.mark.parametrize(("environ", "why"), [
    ({"ZENLAYER_PROFILE": "prod"}, "ZENLAYER_PROFILE"),
    ({"ZENLAYER_PROFILE": "prod", "ZENLAYER_TOKEN": TOKEN}, "ZENLAYER_PROFILE"),  # a named profile must exist
])
def test_a_missing_named_profile_is_an_error_naming_it(tmp_path, monkeypatch, environ, why) -> None:
    zeno_home(tmp_path, monkeypatch, PROFILES)
    with pytest.raises(CredentialsError, match=f"No Zenlayer profile 'prod' \\(asked for by {why}\\).*ci, default, staging"):
        Credentials.discover(environ)
    with pytest.raises(CredentialsError, match="'prod'.*does not exist"):
        zeno_home(tmp_path / "empty", monkeypatch)
        Credentials.discover({}, profile="prod")


def test_current_profile_naming_no_profile_is_an_error(tmp_path, monkeypatch) -> None:
    zeno_home(tmp_path, monkeypatch, PROFILES, current="gone")
    with pytest.raises(CredentialsError, match="'gone' \\(asked for by current_profile in ~/.zenlayer/config.json\\)"):
        Credentials.discover({})


def test_no_files_and_no_variables_is_nothing(tmp_path, monkeypatch) -> None:
    zeno_home(tmp_path, monkeypatch)
    assert Credentials.discover({}) is None


@pytest.mark.parametrize(("entry", "missing"), [
    ({"access_key_id": KEY_ID}, "access_key_secret"),
    ({"access_key_secret": PASSWORD}, "access_key_id"),
    ({}, "access_key_id and access_key_secret"),
])
def test_an_incomplete_profile_names_the_missing_field(tmp_path, monkeypatch, entry, missing) -> None:
    zeno_home(tmp_path, monkeypatch, {"default": entry})
    with pytest.raises(CredentialsError, match=f"profile 'default' .* has no {missing}") as caught:
        Credentials.discover({})
    assert PASSWORD not in str(caught.value)


def test_an_unreadable_file_is_named_without_quoting_it(tmp_path, monkeypatch) -> None:
    folder = zeno_home(tmp_path, monkeypatch)
    (folder / "credentials.json").write_text(f'{{"default": {{"access_key_secret": "{PASSWORD}", }}', encoding="utf-8")
    (folder / "credentials.json").chmod(0o600)
    with pytest.raises(CredentialsError, match="credentials.json cannot be read") as caught:
        Credentials.discover({})
    assert PASSWORD not in str(caught.value)


def test_credentials_file_variable_points_at_another_file(tmp_path, monkeypatch) -> None:
    zeno_home(tmp_path, monkeypatch)
    other = tmp_path / "team.json"
    other.write_text(json.dumps({"default": {"token": TOKEN}}), encoding="utf-8")
    other.chmod(0o600)
    assert Credentials.discover({"ZENLAYER_CREDENTIALS_FILE": str(other)}) == Credentials(token=TOKEN)
    with pytest.raises(CredentialsError, match="does not exist"):
        Credentials.discover({"ZENLAYER_CREDENTIALS_FILE": str(tmp_path / "nope.json")})


def test_an_old_ini_file_named_by_the_variable_gets_a_hint(tmp_path, monkeypatch) -> None:
    zeno_home(tmp_path, monkeypatch)
    old = tmp_path / "team.ini"
    old.write_text(f"[default]\ntoken = {TOKEN}\n", encoding="utf-8")
    old.chmod(0o600)
    with pytest.raises(CredentialsError, match="old INI format.*~/.zenlayer/credentials to have it imported") as caught:
        Credentials.discover({"ZENLAYER_CREDENTIALS_FILE": str(old)})
    assert TOKEN not in str(caught.value)


def test_a_file_others_can_read_gets_a_warning_with_the_fix(tmp_path, monkeypatch) -> None:
    folder = zeno_home(tmp_path, monkeypatch, PROFILES, mode=0o644)
    with pytest.warns(CredentialsFileWarning, match=f"credentials.json .*chmod 600 {folder / 'credentials.json'}"):
        assert Credentials.discover({}) is not None
    (folder / "credentials.json").chmod(0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Credentials.discover({}) is not None


def test_the_old_ini_file_is_imported_once(tmp_path, monkeypatch) -> None:
    folder = zeno_home(tmp_path, monkeypatch, {"ci": {"token": "zeno-token"}})
    (folder / "credentials").write_text(
        f"[default]\naccess_key_id = {KEY_ID}\naccess_key_password = {PASSWORD}%\n\n[ci]\ntoken = old-token\n", encoding="utf-8")
    with pytest.warns(LegacyCredentialsImported, match=r"Imported profiles \[default\].*kept zeno's own \[ci\]"):
        assert Credentials.discover({}) == Credentials(KEY_ID, PASSWORD + "%")  # no % interpolation
    assert not (folder / "credentials").exists() and (folder / "credentials.imported").stat().st_mode & 0o777 == 0o600
    assert (folder / "credentials.json").stat().st_mode & 0o777 == 0o600
    assert Credentials.discover({"ZENLAYER_PROFILE": "ci"}) == Credentials(token="zeno-token")  # zeno's entry kept
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second time: nothing to import
        assert Credentials.discover({}) == Credentials(KEY_ID, PASSWORD + "%")


def test_list_profiles_says_what_and_where_never_the_secret(tmp_path, monkeypatch) -> None:
    zeno_home(tmp_path, monkeypatch, {**PROFILES, "broken": {"access_key_id": "AKID-HALF"}}, current="ci")
    listed = {p.name: p for p in list_profiles({})}
    assert set(listed) == {"default", "ci", "staging", "broken"}
    assert (listed["ci"].kind, listed["ci"].current, listed["default"].current) == ("token", True, False)
    assert (listed["default"].kind, listed["default"].access_key_id) == ("access_key", KEY_ID)
    assert listed["broken"].kind == "incomplete"
    assert all(p.source == "~/.zenlayer/credentials.json" for p in listed.values())
    text = "\n".join(map(str, listed.values()))
    assert PASSWORD not in text and TOKEN not in text and "staging-secret-value" not in text



def test_a_profile_with_a_pasted_control_character_is_listed_incomplete_and_refused(tmp_path, monkeypatch) -> None:
    """profiles.py reads the entry, credentials.py builds Credentials from it: the control-character check holds in both."""
    pasted = PASSWORD[:4] + "\x1b" + PASSWORD[4:]
    zeno_home(tmp_path, monkeypatch, {"pasted": {"access_key_id": KEY_ID, "access_key_secret": pasted}})
    assert [(p.name, p.kind) for p in list_profiles({})] == [("pasted", "incomplete")]
    with pytest.raises(CredentialsError, match="control character") as caught:
        Credentials.discover({}, profile="pasted")
    assert pasted not in str(caught.value) and PASSWORD[4:] not in str(caught.value)


# ---------------------------------------------------------------- the environment's spellings


@pytest.mark.parametrize(("environ", "source"), [
    ({"ZENLAYER_ACCESS_KEY_ID": KEY_ID, "ZENLAYER_ACCESS_KEY_SECRET": PASSWORD}, "ZENLAYER_ACCESS_KEY_ID + ZENLAYER_ACCESS_KEY_SECRET"),
    ({"ZENLAYER_ACCESS_KEY_ID": KEY_ID, "ZENLAYER_ACCESS_KEY_PASSWORD": PASSWORD}, "ZENLAYER_ACCESS_KEY_ID + ZENLAYER_ACCESS_KEY_PASSWORD"),
    ({"ZENLAYERCLOUD_ACCESS_KEY_ID": KEY_ID, "ZENLAYERCLOUD_ACCESS_KEY_PASSWORD": PASSWORD},
     "ZENLAYERCLOUD_ACCESS_KEY_ID + ZENLAYERCLOUD_ACCESS_KEY_PASSWORD"),
])
def test_zeno_terraform_and_our_variables(environ, source) -> None:
    found = Credentials.from_env(environ)
    assert found == Credentials(KEY_ID, PASSWORD) and found.source == f"environment ({source})"


def test_secret_and_password_set_differently_is_refused() -> None:
    with pytest.raises(CredentialsError, match="both set") as caught:
        Credentials.from_env({"ZENLAYER_ACCESS_KEY_ID": KEY_ID, "ZENLAYER_ACCESS_KEY_SECRET": PASSWORD,
                              "ZENLAYER_ACCESS_KEY_PASSWORD": "other"})
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(("environ", "missing"), [
    ({"ZENLAYERCLOUD_ACCESS_KEY_ID": KEY_ID}, "ZENLAYERCLOUD_ACCESS_KEY_PASSWORD is not"),
    ({"ZENLAYERCLOUD_ACCESS_KEY_PASSWORD": PASSWORD}, "ZENLAYERCLOUD_ACCESS_KEY_ID is not"),
    ({"ZENLAYER_ACCESS_KEY_SECRET": PASSWORD}, "ZENLAYER_ACCESS_KEY_ID is not"),
    ({"ZENLAYER_ACCESS_KEY_ID": KEY_ID, "ZENLAYERCLOUD_ACCESS_KEY_PASSWORD": PASSWORD}, "ZENLAYER_ACCESS_KEY_SECRET"),
])
def test_half_a_pair_in_any_spelling_names_what_is_missing(environ, missing) -> None:
    with pytest.raises(CredentialsError, match=missing) as caught:
        Credentials.from_env(environ)
    assert PASSWORD not in str(caught.value) and "sandbox" in str(caught.value)


@pytest.mark.parametrize("bad", ["line\nbreak", "tab\there", "esc\x1b[31m", "nul\x00", "zero\u200bwidth"])
def test_control_characters_are_refused_at_load_time_without_the_value(bad, tmp_path, monkeypatch) -> None:
    secret = f"{PASSWORD}{bad}"
    with pytest.raises(CredentialsError, match="control character") as caught:
        Credentials.from_env({"ZENLAYER_ACCESS_KEY_ID": KEY_ID, "ZENLAYER_ACCESS_KEY_SECRET": secret})
    assert PASSWORD not in str(caught.value) and "environment" in str(caught.value)
    zeno_home(tmp_path, monkeypatch, {"default": {"access_key_id": KEY_ID, "access_key_secret": secret}})
    with pytest.raises(CredentialsError, match="profile 'default'.*control character") as caught:
        Credentials.discover({})
    assert PASSWORD not in str(caught.value)


def test_a_client_without_credentials_explains_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ZENLAYER_ACCESS_KEY_ID", "ZENLAYER_ACCESS_KEY_PASSWORD", "ZENLAYER_TOKEN", "ZENLAYER_CREDENTIALS_FILE",
                 "ZENLAYER_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(CredentialsError, match="zeno configure.*ZENLAYER_ACCESS_KEY_ID.*sandbox"):
        ZenlayerClient()
    monkeypatch.setenv("ZENLAYER_TOKEN", TOKEN)
    with ZenlayerClient() as client:
        assert client.credentials == Credentials(token=TOKEN)
