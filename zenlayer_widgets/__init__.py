"""zenlayer_widgets: Zenlayer Cloud custom-image work from a Jupyter notebook.

The plain-Python core (``connect``, ``load_inventory``, ``preflight``, ``create_image``) is what
runbooks call; each has an ``*_async`` form that takes the same client (sync or async).
``ImageStudio`` is the form. Names are imported lazily so that the emulator and
the API client load without pandas or ipywidgets.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

_EXPORTS = {
    "connect": "connection",
    "describe_connection": "connection",
    "list_profiles": "connection",
    "reset_sandbox": "connection",
    "Inventory": "core.inventory",
    "load_inventory": "core.inventory",
    "load_inventory_async": "core.inventory",
    "Preflight": "core.preflight",
    "Check": "core.preflight",
    "preflight": "core.preflight",
    "preflight_async": "core.preflight",
    "create_image": "core.create",
    "create_image_async": "core.create",
    "wait_for_image": "core.create",
    "wait_for_image_async": "core.create",
    "stop_instance": "core.create",
    "stop_instance_async": "core.create",
    "wait_for_power_state": "core.power",
    "wait_for_power_state_async": "core.power",
    "ImageProgress": "core.progress",
    "PreflightFailed": "core.create",
    "ImageCreationFailed": "core.create",
    "ImageWaitTimeout": "core.create",
    "CreateOutcomeUnknown": "core.create",
    "CreateConflict": "core.create",
    "BadArgument": "core.arguments",
    "BadArgumentType": "core.arguments",
    "InstanceRunning": "core.create",
    "RestartFailed": "core.restart",
    "restart": "core.restart",
    "restart_async": "core.restart",
    "IntentConflict": "core.ledger",
    "Ledger": "core.ledger",
    "ledger_for": "core.ledger",
    "settle_intent": "core.create",
    "settle_intent_async": "core.create",
    "start_instance": "core.changes",
    "start_instance_async": "core.changes",
    "delete_image": "core.changes",
    "delete_image_async": "core.changes",
    "ImageInUse": "core.changes",
    "verify_image": "core.from_image",
    "verify_image_async": "core.from_image",
    "VerifyResult": "core.from_image",
    "launch_from_image": "core.from_image",
    "launch_from_image_async": "core.from_image",
    "LaunchResult": "core.from_image",
    "restore_instance": "core.from_image",
    "restore_instance_async": "core.from_image",
    "RestoreResult": "core.from_image",
    "OperationRefused": "core.from_image",
    "OperationFailed": "core.from_image",
    "OperationBusy": "core.operations",
    "StepOutcomeUnknown": "core.operations",
    "rename_image": "core.changes",
    "rename_image_async": "core.changes",
    "Policy": "core.policy",
    "plan_rotation": "core.policy",
    "plan_rotation_async": "core.policy",
    "apply_rotation": "core.policy",
    "apply_rotation_async": "core.policy",
    "RotationFailed": "core.policy",
    "PolicyBusy": "core.policy",
    "mark_policy_images": "core.policy",
    "pin_image": "core.policy",
    "unpin_image": "core.policy",
    "run_history": "core.runs",
    "work_units": "core.fleet",
    "work_units_async": "core.fleet",
    "fleet_units": "core.fleet",
    "begin_run": "core.unattended",
    "Alert": "core.alerts",
    "send_alerts": "core.alerts",
    "StudioController": "studio.controller",
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
