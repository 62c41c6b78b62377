"""No private name crosses a module boundary: a module never imports another module's ``_name``, and a private
module (``api/_wire.py``) is imported only from inside its own package. What two modules share is public.

Counts imports inside functions and ``if TYPE_CHECKING:`` blocks too; ``__dunder__`` names are not private.
"""

from __future__ import annotations

import ast
from pathlib import Path

from test_import_cycles import PACKAGE, is_module, module_name


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_imports(path: Path, source: str | None = None) -> list[str]:
    """``"line: what"`` for every private name ``path`` imports from another module of the package."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            imported = [(f"{target}.{a.name}", None) if is_module(f"{target}.{a.name}") else (target, a.name)
                        for a in node.names]
        elif isinstance(node, ast.Import):
            imported = [(alias.name, None) for alias in node.names]
        else:
            continue
        for module, name in imported:
            if not module.startswith("zenlayer_widgets.") or module == me:
                continue
            parts = module.split(".")
            for i, part in enumerate(parts):
                owner = ".".join(parts[:i])  # the package a private module belongs to
                if _private(part) and not (me + ".").startswith(owner + "."):
                    found.append(f"{node.lineno}: private module {module}")
            if name is not None and _private(name):
                found.append(f"{node.lineno}: private name {module}.{name}")
    return found


def test_no_module_takes_a_private_name_of_another() -> None:
    found = {str(path.relative_to(PACKAGE.parent)): hits for path in sorted(PACKAGE.rglob("*.py"))
             if "__pycache__" not in path.parts and (hits := private_imports(path))}
    assert found == {}, "make the name public where it is shared"


def test_the_check_sees_a_private_name_and_a_private_module() -> None:
    """The check itself can fail: core/create.py taking intents' private helper, connection.py taking api/_wire."""
    create, connection = PACKAGE / "core" / "create.py", PACKAGE / "connection.py"
    assert private_imports(create, "from .intents import _fresh\n") == [
        "1: private name zenlayer_widgets.core.intents._fresh"]
    assert private_imports(connection, "def f():\n    from .api._wire import Redactor\n") == [
        "2: private module zenlayer_widgets.api._wire"]
    assert private_imports(PACKAGE / "api" / "client.py", "from ._wire import Redactor\n") == []  # inside api/
