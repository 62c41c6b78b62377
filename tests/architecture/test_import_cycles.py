"""No import cycles between the package's modules, counting imports inside functions (a lazy import that
closes a cycle only hides it) and leaving out ``if TYPE_CHECKING:`` blocks (they never run).

One cycle is kept on purpose: ``Credentials.discover()`` (api/credentials.py) reads zeno's profile files through
api/profiles.py, which builds ``Credentials``; the public entry point stays on the class, as in zeno and boto3.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "zenlayer_widgets"
#: (importer, imported) edges allowed to close a cycle, each with its reason in the module docstring.
KEPT = {("zenlayer_widgets.api.credentials", "zenlayer_widgets.api.profiles")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
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
                found.add(f"{target}.{alias.name}" if _is_module(f"{target}.{alias.name}") else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("zenlayer_widgets.") and name != me}


def import_graph(sources: dict[Path, str] | None = None) -> dict[str, set[str]]:
    paths = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    return {module_name(p): imports_of(p, (sources or {}).get(p)) for p in paths}


def first_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    pruned = {module: {t for t in targets if (module, t) not in KEPT} for module, targets in graph.items()}
    try:
        tuple(TopologicalSorter(pruned).static_order())
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


def test_the_kept_cycle_still_exists() -> None:
    """If api/credentials.py stops importing api/profiles, KEPT (and the docstring) must go."""
    graph = import_graph()
    assert all(target in graph[module] for module, target in KEPT)
