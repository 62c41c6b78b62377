"""No import cycles between the package's modules, counting imports inside functions (a lazy import that
closes a cycle only hides it) and leaving out ``if TYPE_CHECKING:`` blocks (they never run). No exception is kept.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "zenlayer_widgets"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports_of(path: Path, source: str | None = None) -> set[str]:
    """The package modules ``path`` imports (``from .x import y`` counts ``x.y`` when that is a module)."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    hidden = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
              for sub in node.body for n in ast.walk(sub)}
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if is_module(f"{target}.{alias.name}") else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("zenlayer_widgets.") and name != me}


def import_graph(sources: dict[Path, str] | None = None) -> dict[str, set[str]]:
    paths = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    return {module_name(p): imports_of(p, (sources or {}).get(p)) for p in paths}


def first_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        return list(error.args[1])
    return None


def test_no_module_imports_itself_back_through_others() -> None:
    assert first_cycle(import_graph()) is None


def test_the_check_sees_a_cycle_closed_by_a_lazy_import() -> None:
    """The check itself can fail: restart.py importing create.py inside a function (create imports restart)."""
    restart = PACKAGE / "core" / "restart.py"
    source = restart.read_text(encoding="utf-8") + "\n\ndef _f():\n    from .create import create_image\n"
    cycle = first_cycle(import_graph({restart: source}))
    assert cycle is not None and {"zenlayer_widgets.core.create", "zenlayer_widgets.core.restart"} <= set(cycle)


def test_the_check_sees_the_old_credentials_profiles_cycle() -> None:
    """api/profiles.py building ``Credentials`` again (credentials.py reads the profiles) would be a cycle."""
    profiles = PACKAGE / "api" / "profiles.py"
    source = profiles.read_text(encoding="utf-8") + "\n\ndef _f():\n    from .credentials import Credentials\n"
    cycle = first_cycle(import_graph({profiles: source}))
    assert cycle is not None and {"zenlayer_widgets.api.credentials", "zenlayer_widgets.api.profiles"} <= set(cycle)

