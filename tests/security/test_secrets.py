"""No secret leaks: both runbooks and a probe notebook run with a real key pair (and a token) against
an emulator subprocess that accepts them; then everything they leave is searched for the secret.

Searched: the saved notebooks (outputs and tracebacks included), the widget state, every log
(papermill's kernel output, the kernels' own stderr, DEBUG logging of every library, the
emulator's output), reprs, error messages, the ledger (its SQLite file) and the CSV exports. Auth
failures are provoked with wrong secrets, which must not leak either.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import nbformat
import papermill
import pytest

from browser.harness.jupyter_env import environ, execute_notebook, isolated_env
from zenlayer_widgets.core.ledger import Ledger
from zenlayer_widgets.emulator import EmulatorBackend

from .leaks import WINDOW, find_leaks, read_all

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PROBE = Path(__file__).resolve().parent / "fixtures" / "leak_probe.ipynb"
DEMO = EmulatorBackend()  # the CLI emulator's demo fleet has the same (deterministic) ids


def demo_id(name: str) -> str:
    return DEMO.instance_named(name).instance_id


@pytest.fixture
def evidence(found, caplog, capfd, tmp_path):
    """Collects what a test produced, and checks it all for secrets at the end of the test."""
    caplog.set_level(logging.DEBUG)
    texts: dict[str, str] = {}
    yield texts
    texts["logs"] = caplog.text
    texts["console (kernels' stdout and stderr)"] = "\n".join(capfd.readouterr())
    texts["files left in the run directory"] = read_all(tmp_path)
    hits = [hit for where, text in texts.items() for hit in find_leaks(text, found, where)]
    assert hits == [], hits


def kernel_env(tmp_path: Path, credentials: dict[str, str]) -> dict[str, str]:
    return isolated_env(tmp_path / "env", {**credentials, "ZENLAYER_JOURNAL": str(tmp_path / "ledger.sqlite3")})


def run_papermill(notebook: Path, tmp_path: Path, env: dict[str, str], **parameters) -> Path:
    out = tmp_path / f"{notebook.stem}-out.ipynb"
    with environ(env):
        papermill.execute_notebook(str(notebook), str(out), parameters=parameters, kernel_name="python3",
                                   progress_bar=False, log_output=True, cwd=str(tmp_path))
    return out


def run_nbclient(notebook: Path, tmp_path: Path, env: dict[str, str]) -> tuple[str, str]:
    """Run a copy in ``tmp_path``; the saved notebook and the widget state, as text."""
    copy = tmp_path / notebook.name
    shutil.copy(notebook, copy)
    nb, widget_state = execute_notebook(copy, env, timeout=120)
    nbformat.write(nb, copy)
    return copy.read_text(), json.dumps(widget_state, ensure_ascii=False)


def test_the_search_finds_every_form_of_a_secret(found):
    """Without this the zero-hit assertions below could pass on a search that never matches."""
    import base64

    samples = [found.password, f"...{found.token[3:30]}...", base64.b64encode(found.password.encode()).decode(),
               json.dumps({"h": f"Bearer {found.wrong_token}"}), found.wrong_password.encode().hex().upper()]
    for sample in samples:
        assert find_leaks(f"text {sample} text", found), sample
    assert find_leaks(f"{found.key_id} and {found.password[:WINDOW - 1]}", found) == []  # short of a window


def test_create_runbook_headless_with_a_key_pair(found, cli, tmp_path, evidence):
    env = kernel_env(tmp_path, found.key_pair_env(cli.url))
    out = run_papermill(NOTEBOOKS / "create_image.ipynb", tmp_path, env, interactive=False,
                        instance_id=demo_id("build-hkg-01"), image_name="leak-check-1", image_description="secret-free")
    text = out.read_text()
    assert f"Zenlayer Cloud API at {cli.url}" in text and "AVAILABLE" in text and "leak-check-1" in text
    assert [e.image_name for e in Ledger(tmp_path / "ledger.sqlite3").entries()] == ["leak-check-1"]
    evidence["create runbook"] = text


def test_create_runbook_interactive_widget_state_with_a_key_pair(found, cli, tmp_path, evidence):
    saved, widget_state = run_nbclient(NOTEBOOKS / "create_image.ipynb", tmp_path, kernel_env(tmp_path, found.key_pair_env(cli.url)))
    assert "zw-studio" in widget_state and "Connected to the Zenlayer Cloud API" in widget_state and cli.url in widget_state
    evidence.update({"create runbook (interactive)": saved, "its widget state": widget_state})


def test_inventory_runbook_with_a_key_pair(found, cli, tmp_path, evidence):
    out = run_papermill(NOTEBOOKS / "inventory.ipynb", tmp_path, kernel_env(tmp_path, found.key_pair_env(cli.url)),
                        export_dir=str(tmp_path / "exports"))
    text = out.read_text()
    assert "Custom images used per zone" in text and len(list((tmp_path / "exports").glob("quota-*.csv"))) == 1
    evidence["inventory runbook"] = text  # the CSV exports are searched with the run directory


def test_probe_with_a_key_pair(found, cli, tmp_path, evidence):
    saved, widget_state = run_nbclient(PROBE, tmp_path, kernel_env(tmp_path, found.key_pair_env(cli.url)))
    assert "INVALID_INSTANCE_NOT_FOUND" in saved and "Traceback" in saved
    assert "instances: 16" in saved and "DEBUG" in saved  # the studio loaded, debug logging was on
    assert "Connected to" in saved and "boxes empty: True" in saved  # the CredentialsForm took the password
    evidence.update({"probe": saved, "probe widget state": widget_state})


def test_token_runs(found, cli, tmp_path, evidence):
    env = kernel_env(tmp_path, found.token_env(cli.url))
    out = run_papermill(NOTEBOOKS / "create_image.ipynb", tmp_path, env, interactive=False,
                        instance_id=demo_id("game-tyo-02"), image_name="leak-check-token")
    created = out.read_text()
    assert "AVAILABLE" in created and "leak-check-token" in created
    saved, widget_state = run_nbclient(PROBE, tmp_path, env)
    assert "instances: 16" in saved and "Connected to" in saved and "boxes empty: True" in saved
    evidence.update({"create runbook (token)": created, "probe (token)": saved, "probe widget state (token)": widget_state})


def test_auth_failures_with_wrong_secrets(found, cli, tmp_path, evidence):
    wrong_key = kernel_env(tmp_path, found.key_pair_env(cli.url, password=found.wrong_password))
    with pytest.raises(papermill.PapermillExecutionError) as refused:
        run_papermill(NOTEBOOKS / "create_image.ipynb", tmp_path, wrong_key, interactive=False,
                      instance_id=demo_id("db-hkg-01"), image_name="never-made")
    assert refused.value.ename == "AuthError" and "AUTH_FAILURE_SIGNATURE_MISMATCH" in refused.value.evalue
    failed = (tmp_path / "create_image-out.ipynb").read_text()
    saved, widget_state = run_nbclient(PROBE, tmp_path, wrong_key)
    assert saved.count("AUTH_FAILURE_SIGNATURE_MISMATCH") >= 3  # the studio, the traceback, the form
    assert "The credentials were refused" in widget_state
    wrong_token = kernel_env(tmp_path / "token", found.token_env(cli.url, token=found.wrong_token))
    saved_token, state_token = run_nbclient(PROBE, tmp_path / "token", wrong_token)
    assert "AUTH_FAILURE_INVALID_TOKEN" in saved_token
    evidence.update({"refused run": failed, "its error": str(refused.value) + repr(refused.value),
                     "probe (wrong password)": saved, "its widget state": widget_state,
                     "probe (wrong token)": saved_token, "its widget state (token)": state_token})


def test_the_emulator_printed_no_secret(found, cli):
    output = cli.output()
    assert found.key_id in output  # the banner names the key id (not a secret) ...
    assert find_leaks(output, found, "emulator output") == []  # ... and nothing else
