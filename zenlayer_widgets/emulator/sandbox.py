"""One sandbox per user: a detached emulator server on loopback that every kernel of the user shares.

The first ``connect()`` without credentials calls :func:`ensure_sandbox`, which, under a file
lock (concurrent kernels are safe), reads the state file ``sandbox.json`` (url, pid, port, key
pair, settings) in the sandbox directory and either finds the running server or starts one: a
``python -m zenlayer_widgets.emulator sandbox-serve`` process, detached from the kernel (its
own session, reparented to init), bound to 127.0.0.1 only. The server saves the account to
``state.json`` after every change and reloads it at start, so the sandbox survives kernel and
server restarts.

Only its user controls it. Its control endpoints (reset, faults, latency, clock) answer only
requests carrying the sandbox's own secret (:data:`CONTROL_HEADER`; a random token in the 0600
file :data:`TOKEN_FILE`, new for every server), which :func:`reset_sandbox` and the CLI send; a
sandbox folder owned by another user, or that others may write to, is refused; a pid is trusted
as the server only when that process is this user's and runs ``sandbox-serve`` for this folder
(psutil, so a reused pid is not signalled); the log is opened without following a symlink.

The directory: ``$ZENLAYER_SANDBOX_DIR``, else ``<user data dir>/zenlayer-widgets/sandbox``
(``~/.local/share/...`` on Linux). Settings: a kernel asking for other transition or latency
settings than the running server has restarts it with the new ones (same port, same state);
the last kernel to connect sets the pace. The server stops by itself when its state file is
removed or names another process. ``reset_sandbox()`` / ``python -m zenlayer_widgets.emulator
reset`` put the demo fleet back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

ENV_DIR = "ZENLAYER_SANDBOX_DIR"
STATE_FILE = "sandbox.json"
SNAPSHOT_FILE = "state.json"
LOCK_FILE = "sandbox.lock"
LOG_FILE = "sandbox.log"
TOKEN_FILE = "control.token"
HOST = "127.0.0.1"
#: The sandbox server's password travels in the environment, never in argv (``ps`` shows argv).
PASSWORD_ENV = "ZENLAYER_EMULATOR_ACCESS_KEY_PASSWORD"
#: The control token reaches the server the same way.
TOKEN_ENV = "ZENLAYER_SANDBOX_CONTROL_TOKEN"
#: The header the control endpoints of a sandbox want the token in.
CONTROL_HEADER = "X-Emulator-Control-Token"
#: ``os.O_NOFOLLOW`` where the system has it (a symlink planted in place of a file is refused).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
START_TIMEOUT = 60.0


class SandboxError(RuntimeError):
    """The shared sandbox could not be found or started."""


@dataclass(frozen=True)
class SandboxHandle:
    """A running shared sandbox, as its state file describes it."""

    url: str
    pid: int
    port: int
    access_key_id: str
    access_key_password: str
    transition_seconds: float
    latency_ms: float
    directory: str
    nonce: str = ""

    @property
    def host_port(self) -> str:
        return f"{HOST}:{self.port}"

    def __repr__(self) -> str:  # no password
        return f"<SandboxHandle {self.url} pid={self.pid} dir={self.directory!r}>"


def sandbox_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """``$ZENLAYER_SANDBOX_DIR``, else the sandbox folder in the user's data directory."""
    named = environ.get(ENV_DIR, "").strip()
    if named:
        return Path(named).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_data_dir("zenlayer-widgets", appauthor=False)) / "sandbox"


def _read_state(directory: Path) -> SandboxHandle | None:
    try:
        data = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
        return SandboxHandle(**data)
    except (OSError, ValueError, TypeError):
        return None


def _write_state(directory: Path, handle: SandboxHandle) -> None:
    path = directory / STATE_FILE
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle_file:
        json.dump(asdict(handle), handle_file)
    os.replace(temporary, path)


def _private_file(path: Path, flags: int) -> int:
    """``os.open`` of a file of the sandbox folder: mode 0600, never through a symlink."""
    return os.open(path, flags | _NOFOLLOW, 0o600)


def _write_token(directory: Path) -> str:
    """A new control token in ``TOKEN_FILE`` (0600, replaced atomically), for the server about to start."""
    token = secrets.token_urlsafe(32)
    temporary = directory / f".{TOKEN_FILE}.{os.getpid()}.tmp"
    temporary.unlink(missing_ok=True)
    with os.fdopen(_private_file(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL), "w", encoding="utf-8") as file:
        file.write(token)
    os.replace(temporary, directory / TOKEN_FILE)
    return token


def read_token(directory: Path) -> str:
    """The control token of the sandbox in ``directory`` ("" when there is none)."""
    try:
        with os.fdopen(_private_file(directory / TOKEN_FILE, os.O_RDONLY), encoding="utf-8") as file:
            return file.read().strip()
    except OSError:
        return ""


def check_directory(directory: Path) -> None:
    """Refuse a sandbox folder that is not this user's alone (another owner, or writable by group or others)."""
    if not hasattr(os, "geteuid"):  # Windows: the folder's ACL is the user profile's
        return
    try:
        status = directory.lstat()
    except OSError as error:
        raise SandboxError(f"the sandbox folder {directory} cannot be read ({error})") from None
    fix = f"set {ENV_DIR} to a folder of your own (it is created with mode 0700)"
    if not stat.S_ISDIR(status.st_mode):
        raise SandboxError(f"the sandbox folder {directory} is not a folder (a symlink or a file); {fix}")
    if status.st_uid != os.geteuid():
        raise SandboxError(f"the sandbox folder {directory} belongs to another user (uid {status.st_uid}); "
                           f"its server, state and token would be theirs to change; {fix}")
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise SandboxError(f"the sandbox folder {directory} is writable by other users (mode "
                           f"{stat.S_IMODE(status.st_mode):04o}); run chmod go-w {directory}, or {fix}")


def _sandbox_process(pid: int, directory: Path | None = None) -> psutil.Process | None:
    """The process ``pid`` if it is this user's sandbox server (of ``directory`` when given), else None:
    a pid reused by another program, or another user's process, is never taken for it."""
    import psutil

    try:
        process = psutil.Process(pid)
        if hasattr(os, "geteuid") and process.uids().effective != os.geteuid():
            return None
        command = process.cmdline()
    except (psutil.Error, OSError, ValueError):
        return None
    if "sandbox-serve" not in command or not any("zenlayer_widgets.emulator" in part for part in command):
        return None
    if directory is not None and ("--dir" not in command or command.index("--dir") + 1 >= len(command)
                                  or Path(command[command.index("--dir") + 1]) != directory):
        return None
    return process


def _pid_alive(pid: int, directory: Path | None = None) -> bool:
    return _sandbox_process(pid, directory) is not None


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


def is_running(handle: SandboxHandle) -> bool:
    """The server named by ``handle`` is this user's, alive, and accepts connections."""
    return _pid_alive(handle.pid, Path(handle.directory)) and _port_open(handle.port)


def _lock(directory: Path, timeout: float):  # noqa: ANN202
    from filelock import FileLock

    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    check_directory(directory)
    return FileLock(str(directory / LOCK_FILE), timeout=timeout)


def _stop_process(pid: int, directory: Path, timeout: float = 10.0) -> None:
    """Stop the sandbox server ``pid`` (only if it is this user's server of ``directory``)."""
    import psutil

    process = _sandbox_process(pid, directory)
    if process is None:
        return
    try:
        process.terminate()
        process.wait(timeout)
    except psutil.TimeoutExpired:
        process.kill()
    except psutil.NoSuchProcess:
        pass


def _spawn(directory: Path, transition_seconds: float, latency_ms: float, port: int, timeout: float) -> SandboxHandle:
    nonce = secrets.token_hex(8)
    key_id = "SANDBOX-" + secrets.token_hex(6).upper()
    env = {**os.environ, PASSWORD_ENV: secrets.token_urlsafe(24), TOKEN_ENV: _write_token(directory)}
    log_path = directory / LOG_FILE
    try:
        log_fd = _private_file(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    except OSError as error:  # ELOOP: a symlink planted as the log
        raise SandboxError(f"the sandbox log {log_path} cannot be opened as a plain file ({error})") from None
    with os.fdopen(log_fd, "ab") as log:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "zenlayer_widgets.emulator", "sandbox-serve", "--dir", str(directory),
             "--port", str(port), "--transition-seconds", repr(transition_seconds), "--latency-ms", repr(latency_ms),
             "--access-key-id", key_id, "--nonce", nonce],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True, close_fds=True,
        )
    try:
        launcher.wait(timeout)  # the launcher forks the server and exits at once: nothing is left to reap
    except subprocess.TimeoutExpired:
        raise SandboxError(f"the sandbox launcher did not return within {timeout:.0f} s (see {log_path})") from None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        handle = _read_state(directory)
        if handle is not None and handle.nonce == nonce and _port_open(handle.port):
            return handle
        time.sleep(0.05)
    tail = _log_tail(log_path)
    raise SandboxError(f"the sandbox emulator did not start within {timeout:.0f} s; its log ({log_path}) ends:\n{tail}")


def _log_tail(path: Path, size: int = 600) -> str:
    try:
        with os.fdopen(_private_file(path, os.O_RDONLY), "rb") as log:
            return log.read()[-size:].decode("utf-8", "replace")
    except OSError:
        return ""


def ensure_sandbox(
    transition_seconds: float = 3.0,
    latency_ms: float = 0.0,
    directory: Path | None = None,
    *,
    timeout: float = START_TIMEOUT,
) -> SandboxHandle:
    """The user's running sandbox, started (or restarted with these settings) when needed."""
    directory = directory or sandbox_dir()
    with _lock(directory, timeout):
        handle = _read_state(directory)
        if handle is not None and is_running(handle):
            if (handle.transition_seconds, handle.latency_ms) == (float(transition_seconds), float(latency_ms)):
                return handle
            _stop_process(handle.pid, directory)  # other settings asked for: restart, same port, same state
        port = handle.port if handle is not None else 0
        return _spawn(directory, float(transition_seconds), float(latency_ms), port, timeout)


def find_sandbox(directory: Path | None = None) -> SandboxHandle | None:
    """The running sandbox of ``directory`` (default: the user's), or None; never starts one."""
    handle = _read_state(directory or sandbox_dir())
    return handle if handle is not None and is_running(handle) else None


def reset_sandbox(directory: Path | None = None, *, timeout: float = START_TIMEOUT) -> str:
    """Put the demo fleet back: in the running server (kernels keep their connection), else on disk."""
    directory = directory or sandbox_dir()
    with _lock(directory, timeout):
        handle = _read_state(directory)
        if handle is not None and is_running(handle):
            import httpx

            # Straight to loopback (trust_env=False: never through an environment proxy), with the sandbox's token.
            headers = {CONTROL_HEADER: read_token(directory)}
            httpx.post(f"{handle.url}/_emulator/reset", json={}, headers=headers, timeout=30, trust_env=False).raise_for_status()
            return f"The sandbox at {handle.url} is back to the demo fleet (state in {directory})."
        (directory / SNAPSHOT_FILE).unlink(missing_ok=True)
        return f"The sandbox in {directory} will start with the demo fleet (no server was running)."


def stop_sandbox(directory: Path | None = None, *, timeout: float = START_TIMEOUT) -> bool:
    """Stop the sandbox server of ``directory`` (its state stays on disk); True if one was running."""
    directory = directory or sandbox_dir()
    with _lock(directory, timeout):
        handle = _read_state(directory)
        (directory / STATE_FILE).unlink(missing_ok=True)
        if handle is not None and _pid_alive(handle.pid, directory):
            _stop_process(handle.pid, directory)
            return True
    return False


# ------------------------------------------------------------------------------ the server side


def _serve(args: argparse.Namespace) -> int:
    """Run the sandbox server in this (already detached) process until told to stop."""
    from . import persist
    from .app import EmulatorContext
    from .auth import AuthConfig
    from .backend import EmulatorBackend
    from .conditions import Conditions
    from .server import serve

    directory = Path(args.dir)
    backend = EmulatorBackend(seed="demo", transition_seconds=args.transition_seconds)
    snapshot_path = directory / SNAPSHOT_FILE
    snapshot = persist.load(snapshot_path)
    if snapshot is not None:
        try:
            backend.import_state(snapshot)
        except ValueError as error:
            print(f"ignoring an unreadable snapshot ({error}); starting from the demo fleet", flush=True)
            snapshot_path.rename(snapshot_path.with_suffix(".unreadable.json"))
    def save_snapshot() -> None:  # a full disk must not turn an applied action into a 500
        try:
            persist.save(backend.export_state(), snapshot_path)
        except OSError as error:
            print(f"could not save the sandbox state to {snapshot_path}: {error}", flush=True)

    backend.on_change = save_snapshot
    save_snapshot()
    password = os.environ.get(PASSWORD_ENV, "")
    token = os.environ.pop(TOKEN_ENV, "") or read_token(directory)
    if not token:
        print(f"no control token ({TOKEN_ENV} or {directory / TOKEN_FILE}): not serving", flush=True)
        return 1
    context = EmulatorContext(backend, AuthConfig(args.access_key_id, password, None), Conditions(latency_ms=args.latency_ms),
                              control_token=token)

    async def run() -> None:
        ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def on_ready(url: str) -> None:
            ready.set_result(url)

        serving = asyncio.ensure_future(serve(context, HOST, args.port, on_ready=on_ready))
        await asyncio.wait([serving, ready], return_when=asyncio.FIRST_COMPLETED)  # type: ignore[type-var]
        if not ready.done():  # the old port is taken (or gone): any free one
            serving.exception()
            serving = asyncio.ensure_future(serve(context, HOST, 0, on_ready=on_ready))
        url = await ready
        port = int(url.rsplit(":", 1)[1])
        handle = SandboxHandle(url, os.getpid(), port, args.access_key_id, password,
                               args.transition_seconds, args.latency_ms, str(directory), args.nonce)
        _write_state(directory, handle)
        print(f"sandbox {handle.url} pid {handle.pid} serving {directory}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        import signal

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            while not stop.is_set() and not serving.done():
                current = _read_state(directory)
                if current is None or current.pid != os.getpid():
                    print("state file gone or taken over: stopping", flush=True)
                    break
                try:
                    await asyncio.wait_for(stop.wait(), 1.0)
                except asyncio.TimeoutError:
                    pass
        finally:
            serving.cancel()
            try:
                await serving
            except asyncio.CancelledError:
                pass

    asyncio.run(run())
    return 0


def serve_main(argv: Sequence[str]) -> int:
    """``sandbox-serve``: fork the server (the launcher exits at once), detached from the kernel."""
    parser = argparse.ArgumentParser(prog="python -m zenlayer_widgets.emulator sandbox-serve")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--transition-seconds", type=float, default=3.0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--access-key-id", required=True)
    parser.add_argument("--nonce", default="")
    parser.add_argument("--foreground", action="store_true", help="do not fork (debugging)")
    args = parser.parse_args(argv)
    if not args.foreground and hasattr(os, "fork") and os.fork() > 0:
        return 0
    return _serve(args)


def cli(argv: Sequence[str] | None = None) -> int:
    """``reset``, ``status`` or ``stop`` the user's sandbox (``zenlayer-sandbox``)."""
    parser = argparse.ArgumentParser(prog="zenlayer-sandbox", description="The shared sandbox emulator of this user.")
    parser.add_argument("command", choices=("reset", "status", "stop"))
    parser.add_argument("--dir", default=None, help=f"the sandbox directory (default: ${ENV_DIR} or the user data dir)")
    args = parser.parse_args(argv)
    directory = Path(args.dir).expanduser().absolute() if args.dir else sandbox_dir()
    try:
        return _command(args.command, directory)
    except SandboxError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _command(command: str, directory: Path) -> int:
    if command == "reset":
        print(reset_sandbox(directory))
    elif command == "stop":
        print("stopped" if stop_sandbox(directory) else "no sandbox was running", f"({directory})")
    else:
        handle = find_sandbox(directory)
        print(f"running at {handle.url}, pid {handle.pid}, transitions {handle.transition_seconds:g} s, "
              f"latency {handle.latency_ms:g} ms ({directory})" if handle else f"not running ({directory})")
    return 0


if __name__ == "__main__":
    sys.exit(cli())
