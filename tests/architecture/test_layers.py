"""The folders are the layers: a module may import only from its own layer or the ones below it.

Walks every module's ``import`` statements with :mod:`ast` (those inside functions too, where
upward imports like to hide) and fails on any import that points up the stack.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "zenlayer_widgets"

#: What each layer may import from the package (besides itself). Bottom first.
ALLOWED: dict[str, set[str]] = {
    "_version": set(),
    "rules": {"api"},  # the state names: api/vocabulary.py
    "_runner": set(),
    "api": set(),
    "emulator": {"api", "rules"},
    "core": {"api", "rules", "_runner"},
    "studio": {"core", "api", "rules", "_runner"},
    "widgets": {"studio", "core", "api", "rules", "_runner", "connection"},
    "connection": {"core", "api", "rules", "_runner", "emulator"},
    "scheduling": {"core"},  # jupyter-scheduler's execution manager (the scheduler extra): the run history's variables
    "_state": {"connection", "core", "api"},  # the process-wide state of each, and one reset for tests
    "__init__": {"connection", "core", "studio", "widgets", "api", "rules", "emulator", "__main__"},
}


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def imported_layers(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, top-level package module) for every import of the package from ``path``."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    package_parts = ("zenlayer_widgets",) + path.relative_to(PACKAGE).with_suffix("").parts[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - (node.level - 1)]
                target = base + tuple((node.module or "").split(".")) if node.module else base
                names = [target + (alias.name,) for alias in node.names] if not node.module else [target]
            else:
                names = [tuple((node.module or "").split("."))]
            for name in names:
                if name[0] == "zenlayer_widgets" and len(name) > 1:
                    found.append((node.lineno, name[1]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "zenlayer_widgets" and len(parts) > 1:
                    found.append((node.lineno, parts[1]))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    layer = layer_of(path)
    allowed = ALLOWED.get(layer, set()) | {layer, "_version"}
    upward = [f"line {line}: imports {target}" for line, target in imported_layers(path) if target not in allowed]
    assert not upward, f"{path.relative_to(PACKAGE)} ({layer}) imports upward: {upward}"


def test_every_layer_is_known() -> None:
    unknown = {layer_of(p) for p in MODULES} - set(ALLOWED) - {"__main__"}
    assert not unknown, f"modules outside any layer: {unknown}; add them to ALLOWED"


def test_the_walker_sees_upward_imports_hidden_in_functions() -> None:
    """The check itself can fail: a core module importing connection, relatively or absolutely."""
    where = PACKAGE / "core" / "preflight.py"
    relative = "def f():\n    from ..connection import connect\n"
    absolute = "import zenlayer_widgets.widgets.studio\n"
    sibling = "from . import inventory\n"
    assert imported_layers(where, relative) == [(2, "connection")]
    assert imported_layers(where, absolute) == [(1, "widgets")]
    assert imported_layers(where, sibling) == [(1, "core")]
