"""zenlayer_widgets: Zenlayer Cloud custom-image work from a Jupyter notebook.

The plain-Python core (``connect``, ``load_inventory``, ``preflight``, ``create_image``) is what
runbooks call; ``ImageStudio`` is the form. Names are imported lazily so that the emulator and
the API client load without pandas or ipywidgets.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "connect": "connection",
    "describe_connection": "connection",
    "Inventory": "inventory",
    "load_inventory": "inventory",
    "load_inventory_async": "inventory",
    "Preflight": "checks",
    "Check": "checks",
    "preflight": "checks",
    "preflight_async": "checks",
    "create_image": "operations",
    "create_image_async": "operations",
    "wait_for_image": "operations",
    "ImageProgress": "operations",
    "PreflightFailed": "operations",
    "ImageCreationFailed": "operations",
    "ImageWaitTimeout": "operations",
    "CreateOutcomeUnknown": "operations",
    "Journal": "journal",
    "journal_for": "journal",
    "StudioController": "controller",
    "ImageStudio": "widgets",
    "InstanceTable": "widgets",
    "InstancePicker": "widgets",
    "ImageNameField": "widgets",
    "ImageDescriptionField": "widgets",
    "CreateForm": "widgets",
    "InventoryView": "widgets",
    "CredentialsForm": "widgets",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'zenlayer_widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
