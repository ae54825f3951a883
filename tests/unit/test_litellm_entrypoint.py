"""The container's start command hands LiteLLM a database URL with the RDS port and TLS required.

The entrypoint runs for real (``sh entrypoint.sh``) from a staged image context; only the final
``litellm`` executable is a stand-in that records the URL LiteLLM's CLI would connect with: its own
``DATABASE_URL`` when set, else what ``construct_database_url_from_env_vars`` (pinned LiteLLM) builds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from gateway_cdk.litellm_service import stage_image_context

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "litellm_service"))
from database_url import DatabaseSettingsError, database_url  # noqa: E402

#: What the task definition gives the container (host from RDS, port 5532, user/password from its secret).
TASK_ENV = {
    "DATABASE_HOST": "gw-db.abc123.eu-west-1.rds.amazonaws.com",
    "DATABASE_PORT": "5532",
    "DATABASE_NAME": "litellm",
    "DATABASE_USERNAME": "litellm",
    "DATABASE_PASSWORD": "p@ss/w:rd%20+x",
}

FAKE_LITELLM = """#!{python}
import json, os, sys
url = os.environ.get("DATABASE_URL")
if not url:
    from litellm.proxy.utils import construct_database_url_from_env_vars
    url = construct_database_url_from_env_vars()
json.dump({{"url": url, "argv": sys.argv[1:], "disable": os.environ.get("DISABLE_SCHEMA_UPDATE")}},
          open(os.environ["RECORD"], "w"))
"""


def run_entrypoint(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    image = stage_image_context(ROOT, tmp_path / "build")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "litellm"
    fake.write_text(FAKE_LITELLM.format(python=sys.executable))
    fake.chmod(0o755)
    python_dir = Path(sys.executable).parent
    full_env = {
        "PATH": f"{bin_dir}:{python_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "RECORD": str(tmp_path / "record.json"),
        "LITELLM_CONFIG_RENDERED": str(tmp_path / "rendered.yaml"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        **env,
    }
    return subprocess.run(
        ["sh", str(image / "entrypoint.sh"), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_litellm_connects_to_the_rds_port_with_tls(tmp_path: Path) -> None:
    result = run_entrypoint(tmp_path, TASK_ENV)
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "record.json").read_text())
    url = urlsplit(record["url"])
    assert url.hostname == TASK_ENV["DATABASE_HOST"]
    assert url.port == 5532, f"LiteLLM would connect to {url.port or 5432}, RDS listens on 5532"
    assert parse_qs(url.query)["sslmode"] == ["require"]
    assert unquote(url.password or "") == TASK_ENV["DATABASE_PASSWORD"]
    assert unquote(url.username or "") == "litellm" and url.path == "/litellm"
    assert record["argv"][:4] == ["--config", str(tmp_path / "rendered.yaml"), "--port", "4000"]


def test_a_given_database_url_wins(tmp_path: Path) -> None:
    given = "postgresql://u:p@127.0.0.1:6543/other?sslmode=disable"
    result = run_entrypoint(tmp_path, {**TASK_ENV, "DATABASE_URL": given})
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "record.json").read_text())["url"] == given


def test_a_missing_setting_stops_the_container_with_its_name(tmp_path: Path) -> None:
    env = {k: v for k, v in TASK_ENV.items() if k != "DATABASE_PASSWORD"}
    result = run_entrypoint(tmp_path, env)
    assert result.returncode != 0
    assert "DATABASE_PASSWORD" in result.stderr
    assert not (tmp_path / "record.json").exists()  # LiteLLM never started


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({**TASK_ENV, "DATABASE_PORT": "55x"}, "DATABASE_PORT"),
        ({**TASK_ENV, "DATABASE_PORT": "70000"}, "DATABASE_PORT"),
        ({"DATABASE_HOST": "h"}, "DATABASE_PORT, DATABASE_USERNAME, DATABASE_PASSWORD, DATABASE_NAME"),
    ],
)
def test_bad_settings_are_named(env: dict[str, str], problem: str) -> None:
    with pytest.raises(DatabaseSettingsError, match=problem):
        database_url(env)


def test_no_host_means_no_database() -> None:
    assert database_url({}) is None
    assert database_url({**TASK_ENV, "DATABASE_HOST": "fd00::5"}).startswith("postgresql://litellm:")
    assert "@[fd00::5]:5532/" in database_url({**TASK_ENV, "DATABASE_HOST": "fd00::5"})


def migrates_at_start(record: dict) -> bool:
    """Whether LiteLLM's CLI (pinned) would apply migrations with the environment the stand-in saw."""
    from litellm.proxy.db.prisma_client import should_update_prisma_schema

    return should_update_prisma_schema(record["disable"])


def test_migrate_mode_applies_migrations_and_does_not_serve(tmp_path: Path) -> None:
    """The once-per-deploy task (``command: ["migrate"]``) runs the CLI's setup only, migrations on,
    even though the task definition it shares with the service says DISABLE_SCHEMA_UPDATE=true."""
    result = run_entrypoint(tmp_path, {**TASK_ENV, "DISABLE_SCHEMA_UPDATE": "true"}, "migrate")
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["argv"] == ["--config", str(tmp_path / "rendered.yaml"), "--skip_server_startup"]
    assert migrates_at_start(record)
    assert urlsplit(record["url"]).port == 5532  # same database URL as the service's tasks


def test_the_service_task_skips_migrations(tmp_path: Path) -> None:
    result = run_entrypoint(tmp_path, {**TASK_ENV, "DISABLE_SCHEMA_UPDATE": "true"})
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "record.json").read_text())
    assert "--skip_server_startup" not in record["argv"] and "migrate" not in record["argv"]
    assert not migrates_at_start(record)
