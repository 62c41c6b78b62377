"""The process-wide state (zenlayer_widgets._state): each piece exists where the table says, and one reset makes
the process look fresh to the next test."""

from __future__ import annotations

import re

from zenlayer_widgets import _state, connection
from zenlayer_widgets.api import _network
from zenlayer_widgets.api.credentials import Credentials
from zenlayer_widgets.core import ledger
from zenlayer_widgets.core.ledger import ownership


def test_every_piece_of_the_table_lives_where_it_says() -> None:
    import importlib

    names = re.findall(r"^``([\w.]+)\.(_?\w+)``", _state.__doc__ or "", flags=re.MULTILINE)
    assert len(names) >= 6
    for module, attribute in names:
        assert hasattr(importlib.import_module(f"zenlayer_widgets.{module}"), attribute), (module, attribute)


def test_one_reset_forgets_clients_ledgers_owners_and_tls_contexts(monkeypatch) -> None:
    monkeypatch.setenv("ZENLAYER_JOURNAL", "off")
    keys, url = Credentials("AKID-STATE", "not-a-secret"), "http://127.0.0.1:9"  # nothing is sent
    kept = connection.connect(keys, base_url=url)
    assert connection.connect(keys, base_url=url) is kept  # a re-run cell gets the same open client
    memory = ledger.ledger_for(kept)
    assert ledger.ledger_for(kept) is memory
    ownership.live_owners.add("someone")
    context = _network.tls_context(True, True)
    assert _network.tls_context(True, True) is context

    _state.reset_for_tests()

    again = connection.connect(keys, base_url=url)
    assert again is not kept and not kept.closed  # forgotten, not closed: whoever holds it may go on
    assert ledger.ledger_for(again) is not memory
    assert "someone" not in ownership.live_owners
    assert _network.tls_context(True, True) is not context
    kept.close()
    again.close()


def test_every_global_the_package_rebinds_is_in_the_table() -> None:
    """A new ``global x`` (state rebound for the whole process) must be listed, and so reset or said not to be."""
    import ast
    from pathlib import Path

    package = Path(_state.__file__).parent
    listed = {f"{module}.{attribute}" for module, attribute in re.findall(r"^``([\w.]+)\.(_?\w+)``", _state.__doc__ or "",
                                                                         flags=re.MULTILINE)}
    rebound = set()
    for path in package.rglob("*.py"):
        module = ".".join(path.relative_to(package).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Global):
                rebound.update(f"{module}.{name}" for name in node.names)
    assert "connection._fallback" in rebound and rebound - listed == set()
