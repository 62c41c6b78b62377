"""``python -m zenlayer_widgets.emulator``: serve the Zenlayer VM API emulator until Ctrl-C.

``python -m zenlayer_widgets.emulator reset|status|stop`` manage the user's shared sandbox
(see :mod:`.sandbox`); ``sandbox-serve`` is how the sandbox server itself is started.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import sys
from collections.abc import Sequence

from .app import API_PATH, EmulatorContext
from .auth import DEFAULT_WINDOW_SECONDS, AuthConfig
from .backend import EmulatorBackend
from .conditions import Conditions
from .faults import parse_fault
from .seed import SEEDS
from .server import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_PASSWORD, DEMO_TOKEN, serve

PASSWORD_ENV = "ZENLAYER_EMULATOR_ACCESS_KEY_PASSWORD"
TOKEN_ENV = "ZENLAYER_EMULATOR_TOKEN"


def _non_negative(text: str) -> float:
    value = float(text)
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError("must be a finite number >= 0")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError("must be a finite number > 0")
    return value


def _fault(text: str):  # noqa: ANN202
    try:
        return parse_fault(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m zenlayer_widgets.emulator",
        description="A local, stateful emulator of the Zenlayer Cloud VM API (POST /api/v2/vm), "
        "wire-compatible with the official zenlayercloud-sdk-python.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8800, help="port (default 8800; 0 picks a free one)")
    parser.add_argument("--access-key-id", default=DEMO_ACCESS_KEY_ID, help="accepted access key id (default: the demo key)")
    parser.add_argument("--access-key-password", default=None,
                        help=f"accepted access key password (default: ${PASSWORD_ENV} or the documented demo password)")
    parser.add_argument("--token", default=None, help=f"accepted bearer token (default: ${TOKEN_ENV} or the demo token)")
    fleet = parser.add_mutually_exclusive_group()
    fleet.add_argument("--seed", default="demo", choices=SEEDS, help="starting data (default demo)")
    fleet.add_argument("--instances", type=int, default=None, metavar="N",
                       help="a deterministic synthetic fleet of N instances over 12 zones instead")
    parser.add_argument("--transition-seconds", type=_non_negative, default=3.0, metavar="S",
                        help="how long STOPPING, BOOTING and image CREATING last (default 3)")
    parser.add_argument("--latency-ms", type=_non_negative, default=0.0, metavar="N", help="added to every response")
    parser.add_argument("--timestamp-window-seconds", type=_non_negative, default=DEFAULT_WINDOW_SECONDS, metavar="S",
                        help="accepted X-ZC-Timestamp skew (default 300)")
    parser.add_argument("--fault", action="append", type=_fault, default=[], metavar="ACTION:KIND:PROBABILITY",
                        help="inject a fault; ACTION may be *, KIND is throttle, error, lost_response or late "
                        "(unavailable: CreateImage only; boot_failure: CreateInstances only) (repeatable)")
    parser.add_argument("--late-seconds", type=_non_negative, default=2.0, metavar="S",
                        help="how long after the dropped connection a request hit by the late fault is applied (default 2)")
    parser.add_argument("--allow-duplicate-names", action="store_true",
                        help="let custom images of a zone share a name (the real API may; the reference is silent)")
    parser.add_argument("--rate-limit", type=_positive, default=None, metavar="N",
                        help="requests per second for the account (a token bucket); 429 REQUEST_LIMIT_EXCEEDED beyond (default: no limit)")
    return parser


SANDBOX_COMMANDS = ("reset", "status", "stop")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sandbox-serve":
        from .sandbox import serve_main

        return serve_main(argv[1:])
    if argv and argv[0] in SANDBOX_COMMANDS:
        from .sandbox import cli

        return cli(argv)
    args = build_parser().parse_args(argv)
    password = args.access_key_password or os.environ.get(PASSWORD_ENV) or DEMO_ACCESS_KEY_PASSWORD
    token = args.token or os.environ.get(TOKEN_ENV) or DEMO_TOKEN
    if args.instances is not None and args.instances < 0:
        build_parser().error("--instances must be >= 0")
    backend = EmulatorBackend(seed=args.seed, instances=args.instances, transition_seconds=args.transition_seconds,
                              allow_duplicate_names=args.allow_duplicate_names, late_seconds=args.late_seconds)
    conditions = Conditions(args.fault, latency_ms=args.latency_ms, seed=args.seed, rate_limit=args.rate_limit)
    context = EmulatorContext(backend, AuthConfig(args.access_key_id, password, token, args.timestamp_window_seconds), conditions)

    limit = f"; at most {args.rate_limit:g} requests/s" if args.rate_limit else ""

    def ready(url: str) -> None:
        print(f"Zenlayer VM API emulator listening on {url}", flush=True)
        print(f"  POST {url}{API_PATH}   access key id: {args.access_key_id}   "
              f"({len(backend.instances)} instances{limit}; Ctrl-C stops)", flush=True)

    async def run() -> None:
        task = asyncio.ensure_future(serve(context, args.host, args.port, on_ready=ready))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, task.cancel)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
                pass
        try:
            await task
        except asyncio.CancelledError:
            pass

    try:
        asyncio.run(run())
    except OSError as exc:
        print(f"error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
