"""The linters CI enforces: ``ruff check`` (rules in pyproject.toml's [tool.ruff]) and ``mypy``
([tool.mypy]: the whole package, strict for api/ and core/). Run either by hand the same way::

    .venv/bin/python -m ruff check .        # --fix sorts imports; no formatter is run over the files
    .venv/bin/python -m mypy
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, f"ruff check found problems (fix them, or `ruff check --fix` for import order):\n{result.stdout}{result.stderr}"


@pytest.mark.slow
def test_mypy_finds_nothing() -> None:
    result = run("mypy")
    assert result.returncode == 0, f"mypy found problems:\n{result.stdout}{result.stderr}"
    assert "no issues found" in result.stdout


def test_strict_typing_covers_the_wire_client_and_the_core() -> None:
    """A function without annotations in api/ or core/ is an error, elsewhere it is not (the config is live)."""
    import tomllib

    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    strict = next(o for o in overrides if "zenlayer_widgets.api.*" in o["module"])
    assert "zenlayer_widgets.core.*" in strict["module"]
    assert strict["disallow_untyped_defs"] and strict["disallow_any_generics"] and strict["warn_return_any"]


def test_the_package_says_it_is_typed() -> None:
    assert (ROOT / "zenlayer_widgets" / "py.typed").is_file()
    package_data = __import__("tomllib").loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "py.typed" in package_data["zenlayer_widgets"]
