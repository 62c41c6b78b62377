"""Where the ledger lives, its file modes, the 0.1 journal imported once, and no password shown."""

from __future__ import annotations

import json
import os
import stat

import pytest

from zenlayer_widgets.api.client import ZenlayerClient
from zenlayer_widgets.api.credentials import Credentials
from zenlayer_widgets.core import ledger as ledger_module
from zenlayer_widgets.core.ledger import AVAILABLE_OUTCOME, Ledger, LedgerError, import_journal, ledger_for
from zenlayer_widgets.core.ledger.records import now_text

CREDENTIALS = Credentials(access_key_id="k", access_key_password="p")


def journal_line(**event) -> str:
    return json.dumps({"v": 1, **event}, ensure_ascii=False) + "\n"


def test_where_the_ledger_lives(tmp_path, monkeypatch, postgres_base_url):
    with ZenlayerClient(CREDENTIALS, base_url="https://api.test") as real, \
            ZenlayerClient(CREDENTIALS, base_url="http://127.0.0.1:9", sandbox=True) as sandbox:
        monkeypatch.delenv("ZENLAYER_JOURNAL", raising=False)
        default = ledger_for(real)
        assert default.path == str(ledger_module.default_ledger_path())  # (made per test by tests/conftest.py)
        sandboxed = str(ledger_module.sandbox_ledger_path())  # a file of the sandbox's, so it survives kernel restarts
        assert ledger_for(sandbox).path == sandboxed and ledger_for(sandbox) is not default  # sandbox work never mixes in
        monkeypatch.setenv("ZENLAYER_JOURNAL", str(tmp_path / "team.sqlite3"))
        assert ledger_for(real).path == str(tmp_path / "team.sqlite3") and ledger_for(sandbox).path == sandboxed
        monkeypatch.setenv("ZENLAYER_JOURNAL", "off")
        assert ledger_for(real) is ledger_for(sandbox) and ledger_for(sandbox).in_memory
        monkeypatch.setenv("ZENLAYER_JOURNAL", postgres_base_url)
        shared = ledger_for(real)
        assert shared.engine.dialect.name == "postgresql" and ledger_for(real) is shared
        assert ledger_for(sandbox).path == sandboxed
    monkeypatch.undo()
    assert ledger_module.default_ledger_path().parts[-2:] == ("zenlayer-widgets", "ledger.sqlite3")
    monkeypatch.setenv("ZENLAYER_SANDBOX_DIR", str(tmp_path / "box"))
    assert ledger_module.sandbox_ledger_path() == tmp_path / "box" / "ledger.sqlite3"


def test_the_file_is_private_to_its_user(tmp_path):
    ledger = Ledger(tmp_path / "state" / "ledger.sqlite3")
    ledger.begin("acct", "i-1", "HKG-A", "x", None)
    for path in [tmp_path / "state" / "ledger.sqlite3", *(tmp_path / "state").glob("ledger.sqlite3-*")]:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert stat.S_IMODE(os.stat(tmp_path / "state").st_mode) == 0o700


def test_an_unreachable_server_is_a_clear_error_without_the_password():
    with pytest.raises(LedgerError, match="cannot be opened.*nothing was sent") as refused:
        Ledger("postgresql://zw:hunter2-secret@127.0.0.1:9/ledger?connect_timeout=2")
    assert "hunter2-secret" not in str(refused.value) and refused.value.__cause__ is None
    assert "hunter2" not in repr(refused.value) and "***" in str(refused.value)


def test_a_legacy_journal_is_imported_once_separators_and_all(tmp_path, monkeypatch):
    """0.1's reader split lines on U+2028 too and lost such intents; the import keeps them."""
    legacy = tmp_path / "home" / ".zenlayer" / "journal.jsonl"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(
        journal_line(event="intent", intent="a" * 32, at=now_text(), endpoint="https://e",
                     instance_id="i-1", zone_id="HKG-A", image_name="done", description="line\u2028two\u2029three")
        + journal_line(event="outcome", intent="a" * 32, at=now_text(), outcome="submitted",
                       image_id="img-1", request_id="T1", status="CREATING", adopted=False, error=None)
        + journal_line(event="outcome", intent="a" * 32, at=now_text(), outcome="available",
                       image_id=None, request_id=None, status="AVAILABLE", adopted=False, error=None)
        + journal_line(event="intent", intent="b" * 32, at=now_text(), endpoint="https://e",
                       instance_id="i-2", zone_id="HKG-A", image_name="crashed", description=None)
        + '{"v":1,"event":"outcome","intent":"' + "b" * 32 + '","outc',  # torn by a crash
        encoding="utf-8")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ZENLAYER_JOURNAL", raising=False)
    with ZenlayerClient(CREDENTIALS, base_url="https://e") as client:
        ledger = ledger_for(client)
    done, crashed = ledger.entries("https://e")  # (closed intents older than 90 days would have been pruned)
    assert (done.outcome, done.image_id, done.request_id, done.open) == (AVAILABLE_OUTCOME, "img-1", "T1", False)
    assert done.description == "line\u2028two\u2029three"
    assert (crashed.outcome, crashed.open, crashed.sent_at is not None, crashed.snapshot) == (None, True, True, None)
    assert import_journal(ledger, legacy) is None  # once only
    assert len(ledger.entries()) == 2


def test_a_jsonl_path_in_zenlayer_journal_gets_a_ledger_beside_it(tmp_path, monkeypatch):
    old = tmp_path / "journal.jsonl"
    old.write_text(journal_line(event="intent", intent="c" * 32, at="2026-01-01T00:00:00.000+00:00", endpoint="https://e",
                                instance_id="i-1", zone_id="HKG-A", image_name="kept", description=None))
    monkeypatch.setenv("ZENLAYER_JOURNAL", str(old))
    with ZenlayerClient(CREDENTIALS, base_url="https://e") as client:
        ledger = ledger_for(client)
    assert ledger.path == str(tmp_path / "journal.sqlite3")
    assert [e.image_name for e in ledger.entries()] == ["kept"]


def test_the_account_is_the_endpoint_unless_named_plus_the_key(monkeypatch, postgres_base_url):
    from zenlayer_widgets.core.ledger import account_of

    token = "tok-" + "x" * 40
    with ZenlayerClient(CREDENTIALS, base_url="https://e") as client, \
            ZenlayerClient(Credentials(token=token), base_url="https://e") as bearer:
        monkeypatch.delenv("ZENLAYER_LEDGER_ACCOUNT", raising=False)
        assert account_of(client) == "https://e#key=k"  # two keys at one endpoint are two accounts
        assert account_of(bearer).startswith("https://e#token=") and token not in account_of(bearer)
        monkeypatch.setenv("ZENLAYER_LEDGER_ACCOUNT", "team-prod")  # several endpoints, one account
        assert account_of(client) == "team-prod#key=k"
    short = postgres_base_url.replace("postgresql+psycopg://", "postgres://")  # the form many hosting services print
    assert Ledger(short).engine.dialect.name == "postgresql"
