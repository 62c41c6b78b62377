"""A local, stateful emulator of the Zenlayer Cloud VM API that the official SDK accepts unchanged.

In-process (sandbox mode, tests)::

    from zenlayer_widgets.emulator import start_emulator

    with start_emulator(transition_seconds=0.2) as emulator:
        emulator.url          # "http://127.0.0.1:54321": POST url + "/api/v2/vm"
        emulator.host_port    # "127.0.0.1:54321": the official SDK's Config(domain=...)
        emulator.backend      # direct, thread-safe access to the state

Command line: ``python -m zenlayer_widgets.emulator --port 8800`` (see ``--help`` and docs/emulator.md).
"""

from .app import API_PATH, MAX_BODY_BYTES, make_app
from .auth import AuthConfig
from .backend import EmulatorBackend
from .exceptions import ApiFailure
from .faults import FaultInjector, FaultRule, parse_fault
from .server import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_PASSWORD, DEMO_TOKEN, RunningEmulator, start_emulator

__all__ = [
    "API_PATH",
    "DEMO_ACCESS_KEY_ID",
    "DEMO_ACCESS_KEY_PASSWORD",
    "DEMO_TOKEN",
    "MAX_BODY_BYTES",
    "ApiFailure",
    "AuthConfig",
    "EmulatorBackend",
    "FaultInjector",
    "FaultRule",
    "RunningEmulator",
    "make_app",
    "parse_fault",
    "start_emulator",
]
