"""Secrets that are easy to spot, an emulator (a subprocess) that accepts them, and a search for
them in anything a run leaves behind: notebooks, widget state, logs, journals, exports."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

#: Long enough that no 16-character window of a secret turns up by chance.
WINDOW = 16


@dataclass(frozen=True)
class Secrets:
    """A key pair and a token the emulator accepts, and wrong ones for provoked auth failures."""

    key_id: str
    password: str
    token: str
    wrong_password: str
    wrong_token: str

    @classmethod
    def generate(cls) -> Secrets:
        def make(kind: str) -> str:
            return f"zwLEAK{kind}{secrets.token_urlsafe(24).replace('-', 'x').replace('_', 'y')}"

        return cls(f"ZW-LEAKTEST-KEYID-{secrets.token_hex(4).upper()}", make("pw"), make("tok"), make("wrongpw"),
                   make("wrongtok"))

    @property
    def all(self) -> dict[str, str]:
        return {"password": self.password, "token": self.token, "wrong password": self.wrong_password,
                "wrong token": self.wrong_token}

    def key_pair_env(self, url: str, *, password: str | None = None) -> dict[str, str]:
        return {"ZENLAYER_ACCESS_KEY_ID": self.key_id, "ZENLAYER_ACCESS_KEY_PASSWORD": password or self.password,
                "ZENLAYER_BASE_URL": url}

    def token_env(self, url: str, *, token: str | None = None) -> dict[str, str]:
        return {"ZENLAYER_TOKEN": token or self.token, "ZENLAYER_BASE_URL": url}


def forms_of(name: str, secret: str, key_id: str) -> dict[str, str]:
    """The ways a secret could show up: itself, any window of it, encoded, or as an auth header."""
    raw = secret.encode()
    forms = {
        f"{name}": secret,
        f"{name} (base64)": base64.b64encode(raw).decode().rstrip("="),
        f"{name} (urlsafe base64)": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        f"{name} (hex)": raw.hex(),
        f"{name} (url-quoted)": urllib.parse.quote(secret, safe=""),
        f"{name} (JSON string)": json.dumps(secret)[1:-1],
        f"{name} as Basic auth": base64.b64encode(f"{key_id}:{secret}".encode()).decode().rstrip("="),
        f"{name} as a bearer header": f"Bearer {secret}",
        f"{name} (sha256)": hashlib.sha256(raw).hexdigest(),
    }
    for start in range(0, len(secret) - WINDOW + 1):
        forms[f"{name}[{start}:{start + WINDOW}]"] = secret[start:start + WINDOW]
    return forms


def find_leaks(text: str, found: Secrets, where: str = "") -> list[str]:
    """Every form of every secret that occurs in ``text`` (an empty list is the goal)."""
    hits = []
    lowered = text.lower()
    for name, secret in found.all.items():
        for form, value in forms_of(name, secret, found.key_id).items():
            if value in text or (form.endswith(("(hex)", "(sha256)")) and value in lowered):
                hits.append(f"{where}: {form}")
    return hits


def read_all(*paths: Path) -> str:
    """The text of every file under ``paths`` (files or directories), binary files decoded leniently."""
    parts = []
    for path in paths:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        parts += [f"--- {file}\n{file.read_bytes().decode('utf-8', 'replace')}" for file in files]
    return "\n".join(parts)


class CliEmulator:
    """``python -m zenlayer_widgets.emulator`` on a free port, accepting ``found``'s key pair and token.

    The password and token go in through the environment (``ZENLAYER_EMULATOR_ACCESS_KEY_PASSWORD``
    / ``ZENLAYER_EMULATOR_TOKEN``), not the command line, where ``ps`` would show them.
    ``output()`` is everything the process printed.
    """

    def __init__(self, found: Secrets, log_path: Path) -> None:
        self.log_path = log_path
        env = {**os.environ, "ZENLAYER_EMULATOR_ACCESS_KEY_PASSWORD": found.password, "ZENLAYER_EMULATOR_TOKEN": found.token}
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "zenlayer_widgets.emulator", "--port", "0", "--access-key-id", found.key_id,
             "--transition-seconds", "0.3"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.url = self._wait_for_url()

    def _wait_for_url(self) -> str:
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for line in self.log_path.read_text(errors="replace").splitlines():
                if "listening on " in line:
                    return line.split("listening on ", 1)[1].strip()
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the emulator did not start:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self._log.close()
