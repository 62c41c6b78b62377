"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl in a temp dir, Unix socket only.

``ZENLAYER_TEST_POSTGRES_URL`` set: that server is used instead. Otherwise the binaries of
Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``, or on PATH) are run; as root
through ``runuser -u postgres`` (PostgreSQL refuses to run as root). Missing binaries are a
failure with the fix, never a skip: the ledger must be proven on PostgreSQL too.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

ENV_URL = "ZENLAYER_TEST_POSTGRES_URL"
MISSING = ("PostgreSQL server binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin or on PATH. "
           "Install them (Debian: apt-get install -y postgresql; `.ci/run` does) or set "
           f"{ENV_URL}=postgresql://user@host/db to use a running server.")


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin directory."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if candidates:
        return Path(candidates[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    """A running cluster: ``url`` reaches its ``postgres`` database as the superuser ``postgres``."""

    root: Path
    bindir: Path
    port: int
    prefix: list[str]

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@/postgres?host={self.socket_dir}&port={self.port}"

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self.prefix, *args], capture_output=True, text=True, timeout=120, cwd="/")
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}): {result.stderr[-2000:]}")

    def start(self) -> None:
        data = self.root / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        options = f"-c listen_addresses='' -c unix_socket_directories={self.socket_dir} -p {self.port} -c fsync=off " \
                  "-c max_connections=60"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.root / "server.log"),
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    """initdb and start a cluster in a new temp dir (RuntimeError with :data:`MISSING` when no binaries)."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(MISSING)
    root = Path(tempfile.mkdtemp(prefix="zw-pg-"))
    (root / "socket").mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:
        import pwd

        try:
            user = pwd.getpwnam("postgres")  # the Debian package's user
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError("PostgreSQL refuses to run as root and there is no 'postgres' user to run it as: "
                               "(re)install Debian's postgresql package, or set " + ENV_URL + ".") from None
        for path in (root, root / "socket"):
            os.chown(path, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(root, bindir, _free_port(), prefix)
    try:
        cluster.start()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return cluster


def fresh_schema_url(base_url: str) -> str:
    """A URL of ``base_url`` whose connections use a new empty schema (one per test)."""
    import sqlalchemy as sa

    name = f"zw_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base_url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    engine.dispose()
    url = sa.make_url(base_url)
    if url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(hide_password=False)
