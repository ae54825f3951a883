"""Start and stop the whole local gateway: Postgres → DynamoDB emulator → LiteLLM → middleware."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.dynamodb import create_history_table
from devstack.litellm_config import render_local_config
from devstack.postgres import Postgres, pg_bin_dir
from devstack.prisma import plan_database_mode, prepare_database_mode
from devstack.processes import Child, StartupError, free_port, http_ok, port_is_free, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
EMULATOR = Path(__file__).with_name("dynamodb.py")
HISTORY_TABLE = "genai-gateway-history"
#: `make local`'s Bedrock model aliases unless BEDROCK_MODEL_ALIASES is set: every Anthropic Bedrock id
#: (Claude Code's defaults included) answers with the offline mock (docs/bedrock-interface.md).
LOCAL_MODEL_ALIASES = '{"anthropic.*": "mock-gpt"}'


@dataclass
class StackOptions:
    gateway_port: int
    litellm_port: int
    litellm_config: Path
    work_dir: Path
    master_key: str
    database_url: str | None = None  # given: use it; None: embedded Postgres under work_dir
    durable_postgres: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)  # for every child (e.g. a fake upstream URL)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StackOptions:
        work_dir = Path(env.get("GATEWAY_LOCAL_DIR") or REPO_ROOT / ".local")
        return cls(
            gateway_port=int(env.get("GATEWAY_PORT", "8080")),
            litellm_port=int(env.get("LITELLM_PORT", "4000")),
            litellm_config=Path(env.get("LITELLM_CONFIG") or REPO_ROOT / "config" / "local-config.yaml"),
            work_dir=work_dir,
            master_key=env.get("LITELLM_MASTER_KEY") or persistent_master_key(work_dir),
            database_url=env.get("DATABASE_URL") or None,
            extra_env={"BEDROCK_MODEL_ALIASES": env.get("BEDROCK_MODEL_ALIASES") or LOCAL_MODEL_ALIASES},
        )


def persistent_master_key(work_dir: Path) -> str:
    """A generated master key kept in ``.local/master_key`` (0600) so restarts keep working keys."""
    path = work_dir / "master_key"
    if path.exists():
        return path.read_text().strip()
    work_dir.mkdir(parents=True, exist_ok=True)
    key = "sk-local-" + secrets.token_urlsafe(24)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


class LocalStack:
    def __init__(self, options: StackOptions, base_env: Mapping[str, str] | None = None, log=print) -> None:
        self.options = options
        self.env = dict(base_env if base_env is not None else os.environ)
        self.log = log
        self.children: list[Child] = []
        self.postgres: Postgres | None = None
        self.database_note = ""
        self.dynamodb_url = ""
        self.model_names: list[str] = []
        self._litellm_env: dict[str, str] = {}

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.options.gateway_port}"

    @property
    def litellm_url(self) -> str:
        return f"http://127.0.0.1:{self.options.litellm_port}"

    @property
    def log_dir(self) -> Path:
        return self.options.work_dir / "logs"

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        try:
            for port in (self.options.gateway_port, self.options.litellm_port):
                if not port_is_free(port):
                    raise StartupError(f"port {port} on 127.0.0.1 is already in use (set GATEWAY_PORT/LITELLM_PORT)")
            litellm_env = self._database()
            self._dynamodb()
            self._litellm(litellm_env)
            self._middleware()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None

    def failed_child(self) -> Child | None:
        return next((c for c in self.children if not c.alive()), None)

    # -- parts -----------------------------------------------------------------------------------
    def _child_env(self, **extra: str) -> dict[str, str]:
        env = {**self.env, **self.options.extra_env, **extra}
        env.setdefault("AWS_REGION", "us-east-1")
        env["PYTHONUNBUFFERED"] = "1"  # logs reach .local/logs/*.log as they are written
        env.setdefault("AWS_DEFAULT_REGION", env["AWS_REGION"])
        return env

    def _database(self) -> dict[str, str]:
        """Postgres + Prisma's engines (offline kit, else Prisma's download); the env LiteLLM needs.

        Raises ``DatabaseModeUnavailable`` before starting anything when neither source works.
        """
        plan = plan_database_mode(REPO_ROOT, self.env, sys.executable)
        url = self.options.database_url
        if url is None:
            self.postgres = Postgres(
                self.options.work_dir / "pgdata", free_port(), durable=self.options.durable_postgres
            )
            url = self.postgres.start("litellm")
        if plan.kit is not None:
            env = {**self.env, "PATH": f"{pg_bin_dir()}{os.pathsep}{self.env.get('PATH', '')}"}
            database_env = prepare_database_mode(plan.kit, sys.executable, url, env)
        else:
            database_env = plan.env
        self.database_note = f"database mode on (virtual keys, users, budgets; Prisma engines: {plan.way})"
        return {**database_env, "DATABASE_URL": url}

    def _dynamodb(self) -> None:
        """The user's own DynamoDB endpoint if they set one, else moto's server on loopback."""
        given = self.env.get("AWS_ENDPOINT_URL_DYNAMODB")
        if given:
            self.dynamodb_url = given
        else:
            port = free_port()
            child = self._spawn("dynamodb", [sys.executable, str(EMULATOR), "-H", "127.0.0.1", "-p", str(port)])
            self.dynamodb_url = f"http://127.0.0.1:{port}"
            wait_until(http_ok(f"{self.dynamodb_url}/moto-api/"), child=child, timeout=30, what="DynamoDB emulator")
            self.env.setdefault("AWS_ACCESS_KEY_ID", "local")
            self.env.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        self.env["AWS_ENDPOINT_URL_DYNAMODB"] = self.dynamodb_url
        self.options.work_dir.mkdir(parents=True, exist_ok=True)
        (self.options.work_dir / "dynamodb_url").write_text(self.dynamodb_url + "\n")  # for `make ops`
        self._ensure_history_table()

    def _ensure_history_table(self) -> None:
        create_history_table(
            self.dynamodb_url,
            self.env.get("HISTORY_TABLE_NAME", HISTORY_TABLE),
            self.env.get("AWS_REGION", "us-east-1"),
        )

    def _litellm(self, database_env: dict[str, str]) -> None:
        config, skipped = render_local_config(
            self.options.litellm_config, self.options.work_dir / "litellm-config.yaml", self._child_env()
        )
        self.model_names = [m["model_name"] for m in config.get("model_list", [])]
        if skipped:
            self.log(f"models without their API key in the environment (left out): {', '.join(skipped)}")
        self._litellm_env = self._child_env(
            LITELLM_MASTER_KEY=self.options.master_key, LITELLM_LOCAL_MODEL_COST_MAP="True"
        )
        self._litellm_env.pop("DATABASE_URL", None)
        self._litellm_env.update(database_env)
        self._spawn_litellm("litellm", self.options.litellm_port, self._litellm_env)

    def start_litellm(self, name: str, port: int, *, num_workers: int) -> str:
        """Another LiteLLM proxy on the same database and config (as a second ECS task would run), with
        ``num_workers`` worker processes and without schema updates (the first instance applied them); its URL."""
        env = {**self._litellm_env, "DISABLE_SCHEMA_UPDATE": "true", "TIMEOUT_WORKER_HEALTHCHECK": "60"}
        return self._spawn_litellm(name, port, env, "--num_workers", str(num_workers))

    def _spawn_litellm(self, name: str, port: int, env: dict[str, str], *extra: str) -> str:
        argv = [
            str(Path(sys.executable).with_name("litellm")),
            "--config", str(self.options.work_dir / "litellm-config.yaml"),
            "--host", "127.0.0.1", "--port", str(port), *extra,
        ]  # fmt: skip
        child = self._spawn(name, argv, env)
        url = f"http://127.0.0.1:{port}"
        wait_until(http_ok(f"{url}/health/readiness"), child=child, timeout=300, what=f"LiteLLM proxy ({name})")
        return url

    def _middleware(self) -> None:
        self.start_middleware("middleware", self.options.gateway_port)

    def start_middleware(
        self, name: str, port: int, *, tls: tuple[Path, Path] | None = None, env_overrides: Mapping[str, str] = {}
    ) -> str:
        """Serve the middleware (another instance, e.g. over TLS with ``tls=(cert, key)``); its URL."""
        env = self._child_env(
            PYTHONPATH=os.pathsep.join([str(REPO_ROOT / "layers" / "gateway"), self.env.get("PYTHONPATH", "")]),
            LITELLM_BASE_URL=self.litellm_url,
            LITELLM_MASTER_KEY=self.options.master_key,
            GATEWAY_AUTH_MODE="inline",
            HISTORY_TABLE_NAME=self.env.get("HISTORY_TABLE_NAME", HISTORY_TABLE),
        )
        env.update(env_overrides)
        argv = [
            sys.executable, "-m", "uvicorn", "--app-dir", str(REPO_ROOT / "functions" / "api"),
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "main:app",
        ]  # fmt: skip
        scheme = "http"
        if tls:
            argv += ["--ssl-certfile", str(tls[0]), "--ssl-keyfile", str(tls[1])]
            scheme = "https"
        child = self._spawn(name, argv, env)
        url = f"{scheme}://127.0.0.1:{port}"
        verify = str(tls[0]) if tls else True
        wait_until(
            lambda: httpx.get(f"{url}/gateway/health", verify=verify, timeout=2).status_code == 200,
            child=child,
            timeout=60,
            what=name,
        )
        return url

    def _spawn(self, name: str, argv: list[str], env: Mapping[str, str] | None = None) -> Child:
        child = Child(name, argv, env or self._child_env(), self.log_dir, REPO_ROOT)
        self.children.append(child)
        return child

    # -- readiness -------------------------------------------------------------------------------
    def smoke_chat(self, model: str) -> str:
        """One master-key chat completion through the middleware: the definition of "ready"."""
        response = httpx.post(
            f"{self.gateway_url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {self.options.master_key}"},
            json={"model": model, "messages": [{"role": "user", "content": "ping"}]},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()["choices"][0]["message"]["content"]
