"""The package's public names: every exported name resolves, and the core names are the functions."""

from __future__ import annotations

import inspect
import types

import zenlayer_widgets as zw


def test_every_exported_name_resolves():
    for name in zw.__all__:
        assert getattr(zw, name) is not None, name


def test_core_names_are_functions_even_after_their_modules_are_imported():
    import zenlayer_widgets.core.create  # noqa: F401
    import zenlayer_widgets.core.inventory  # noqa: F401
    import zenlayer_widgets.core.preflight  # noqa: F401

    for name in ("connect", "preflight", "load_inventory", "create_image"):
        value = getattr(zw, name)
        assert not isinstance(value, types.ModuleType) and callable(value), name
    assert inspect.iscoroutinefunction(zw.load_inventory_async)
    assert list(inspect.signature(zw.create_image).parameters)[:7] == [
        "client", "instance_id", "image_name", "description", "stop_if_running", "start_after", "force_stop"
    ]
