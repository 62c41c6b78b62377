"""A local, stateful emulator of the Zenlayer Cloud VM API that the official SDK accepts unchanged.

In-process (sandbox mode, tests)::

    from zenlayer_widgets.emulator import start_emulator

    with start_emulator(transition_seconds=0.2) as emulator:
        emulator.url          # "http://127.0.0.1:54321": POST url + "/api/v2/vm"
        emulator.host_port    # "127.0.0.1:54321": the official SDK's Config(domain=...)
        emulator.backend      # direct, thread-safe access to the state

Without a server (unit tests; moto's ``mock_aws``): the same pipeline behind an httpx transport::

    from zenlayer_widgets.emulator import mock_zenlayer

    with mock_zenlayer(transition_seconds=0.2) as emulator:
        client = emulator.client()  # ZenlayerClient(transport=emulator.transport, ...)

The layers: :mod:`.backend` (state and rules) raises the named errors of :mod:`.exceptions`;
:mod:`.responses` parses parameters and renders; :mod:`.pipeline` runs auth -> faults ->
dispatch -> render as a pure ``handle(request) -> reply``; :mod:`.conditions` holds faults and
latency; :mod:`.app` / :mod:`.server` (tornado) and :mod:`.transport` (httpx) carry replies.

Command line: ``python -m zenlayer_widgets.emulator --port 8800`` (see ``--help`` and docs/emulator.md).
"""

from .app import API_PATH, MAX_BODY_BYTES, EmulatorContext, make_app
from .auth import AuthConfig
from .backend import EmulatorBackend
from .conditions import Conditions
from .exceptions import EmulatorError
from .faults import FaultInjector, FaultRule, parse_fault
from .pipeline import Pipeline, Reply, Request
from .server import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_PASSWORD, DEMO_TOKEN, RunningEmulator, start_emulator
from .transport import EmulatorTransport, InProcessEmulator, mock_zenlayer

__all__ = [
    "API_PATH",
    "DEMO_ACCESS_KEY_ID",
    "DEMO_ACCESS_KEY_PASSWORD",
    "DEMO_TOKEN",
    "MAX_BODY_BYTES",
    "AuthConfig",
    "Conditions",
    "EmulatorBackend",
    "EmulatorContext",
    "EmulatorError",
    "EmulatorTransport",
    "FaultInjector",
    "FaultRule",
    "InProcessEmulator",
    "Pipeline",
    "Reply",
    "Request",
    "RunningEmulator",
    "make_app",
    "mock_zenlayer",
    "parse_fault",
    "start_emulator",
]
