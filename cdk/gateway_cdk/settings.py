"""Deployment settings: read from ``.env`` and the environment, validated before any construct is built.

Every setting is documented in ``.env.template``. An invalid value raises :class:`SettingsError`, whose
message starts with the setting's name, so ``make synth`` stops with e.g.::

    CERTIFICATE_ARN: 'arn:aws:acm:xx' is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)

Example::

    settings = Settings.from_env(load_env(Path(".env"), os.environ))
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

Architecture = Literal["arm64", "x86_64"]

#: Provider API keys carried from ``.env`` into Secrets Manager (one secret each) and into the
#: LiteLLM container as secret environment variables. Names are the ones LiteLLM reads.
PROVIDER_KEY_NAMES: tuple[str, ...] = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "MISTRAL_API_KEY",
    "CODESTRAL_API_KEY",
    "COHERE_API_KEY",
    "GROQ_API_KEY",
    "DEEPSEEK_API_KEY",
    "XAI_API_KEY",
    "PERPLEXITYAI_API_KEY",
    "TOGETHERAI_API_KEY",
    "FIREWORKS_AI_API_KEY",
    "OPENROUTER_API_KEY",
    "HUGGINGFACE_API_KEY",
    "NVIDIA_NIM_API_KEY",
    "AI21_API_KEY",
    "AZURE_API_KEY",
    "AZURE_AI_API_KEY",
)

#: Retention periods CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
)  # fmt: skip
#: Fargate CPU units and the memory (MiB) each allows.
FARGATE_MEMORY: dict[int, range] = {
    256: range(512, 2049, 512),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
    8192: range(16384, 61441, 4096),
    16384: range(32768, 122881, 8192),
}

_CERT_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_VPC_ID = re.compile(r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$")
_ACCOUNT = re.compile(r"^\d{12}$")
_PRODUCT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
_LAYER_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$")
_INSTANCE_CLASS = re.compile(r"^[a-z][a-z0-9]*\.[0-9]*(?:nano|micro|small|medium|large|xlarge)$")
_CACHE_NODE = re.compile(r"^cache\.[a-z][a-z0-9]*\.[0-9]*(?:micro|small|medium|large|xlarge)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


class SettingsError(ValueError):
    """A setting is invalid; ``setting`` names it and the message starts with the name."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting


def parse_dotenv(text: str) -> dict[str, str]:
    """Parse ``KEY=value`` lines (``export`` prefix, quotes and ``#`` comments allowed)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _ENV_NAME.match(key):
            raise SettingsError(".env", f"line {number} is not KEY=value: {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = re.sub(r"\s+#.*$", "", value)
        values[key] = value
    return values


def load_env(dotenv: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """``.env`` (when present) overlaid by the process environment, which wins."""
    values = parse_dotenv(dotenv.read_text()) if dotenv.is_file() else {}
    values.update({k: v for k, v in environ.items() if v != ""})
    return values


# Validated by the gateway itself at start-up (gateway.identity.provisioning / jwt_verifier).
OKTA_OPTION_NAMES = (
    "OKTA_USER_MAX_BUDGET",
    "OKTA_USER_BUDGET_DURATION",
    "OKTA_USER_TPM_LIMIT",
    "OKTA_USER_RPM_LIMIT",
    "OKTA_USER_MAX_PARALLEL_REQUESTS",
    "OKTA_USER_MODELS",
    "OKTA_ALGORITHMS",
    "OKTA_LEEWAY_SECONDS",
    "OKTA_JWKS_MAX_AGE_SECONDS",
    "OKTA_JWKS_REFRESH_MIN_INTERVAL_SECONDS",
)


class _Reader:
    """Typed access to one mapping of raw strings; every error names the setting."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.env.get(name, "").strip()
        return value or default

    def int(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.str(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(name, f"{raw!r} is not a whole number") from None
        if not low <= value <= high:
            raise SettingsError(name, f"{value} is outside {low}..{high}")
        return value

    def bool(self, name: str, default: bool) -> bool:
        raw = self.str(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(name, f"{raw!r} is not a boolean (true/false)")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.str(name, default) or default
        if value not in choices:
            raise SettingsError(name, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def match(self, name: str, pattern: re.Pattern[str], what: str, default: str | None = None) -> str | None:
        value = self.str(name, default)
        if value is not None and not pattern.match(value):
            raise SettingsError(name, f"{value!r} is not {what}")
        return value


def _issuer(reader: _Reader) -> str | None:
    issuer = reader.str("OKTA_ISSUER")
    if issuer is None:
        return None
    parts = urlsplit(issuer)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or " " in issuer:
        raise SettingsError(
            "OKTA_ISSUER",
            f"{issuer!r} is not an https issuer URL (e.g. https://example.okta.com/oauth2/default)",
        )
    return issuer  # kept exactly: the verifier matches the token's ``iss`` byte for byte (Auth0's ends in '/')


@dataclass(frozen=True)
class Sizing:
    """Capacity knobs: what a deployment costs and how far it scales."""

    nat_gateways: int = 1
    interface_endpoints: bool = False
    #: Gateway endpoints the stack adds (on for a new VPC; off for an existing one, which usually has them).
    s3_endpoint: bool = True
    dynamodb_endpoint: bool = True
    ecs_cpu: int = 1024
    ecs_memory_mib: int = 2048
    ecs_min_tasks: int = 2
    ecs_max_tasks: int = 10
    ecs_cpu_target_percent: int = 60
    ecs_requests_per_target: int = 500
    db_instance_class: str = "t4g.medium"
    db_allocated_storage_gib: int = 20
    db_max_allocated_storage_gib: int = 100
    db_multi_az: bool = True
    db_backup_retention_days: int = 7
    cache_node_type: str = "cache.t4g.small"
    cache_replicas: int = 1
    lambda_memory_mib: int = 1024
    lambda_timeout_seconds: int = 900
    api_reserved_concurrency: int | None = None
    api_provisioned_concurrency: int = 0
    #: Held back for the authorizer so that long streams filling the account's concurrency cannot starve it
    #: (every API request invokes it). ``None``: no reservation (AUTHORIZER_RESERVED_CONCURRENCY=0).
    authorizer_reserved_concurrency: int | None = 20
    #: Requests per client IP per 5 minutes (WAF's rate-based rule). High, because a whole company may reach
    #: the gateway through one NAT address: 100,000 / 5 min is ~330 requests/s from one address.
    waf_rate_limit: int = 100_000
    #: DatabaseConnections above which the database alarm fires (~80% of max_connections of db.t4g.medium).
    db_connections_alarm: int = 300
    log_retention_days: int = 90

    @property
    def litellm_workers(self) -> int:
        """LiteLLM (uvicorn) worker processes per task: one per vCPU of the task, at least one."""
        return max(1, self.ecs_cpu // 1024)


@dataclass(frozen=True)
class Settings:
    """Everything the stack needs to know, validated. Build with :meth:`from_env`."""

    stack_name: str = "GenAIGateway"
    region: str = "us-east-1"
    account: str | None = None
    architecture: Architecture = "arm64"
    ecs_architecture: Architecture = "x86_64"
    certificate_arn: str | None = None
    domain_name: str | None = None
    existing_vpc_id: str | None = None
    okta_issuer: str | None = None
    okta_audience: str | None = None
    provider_keys: tuple[str, ...] = ()
    langsmith_enabled: bool = False
    langsmith_project: str | None = None
    langsmith_default_run_name: str | None = None
    alarm_email: str | None = None
    history_ttl_days: int = 90
    okta_options: tuple[tuple[str, str], ...] = ()  # OKTA_USER_* defaults and verifier knobs, passed as set
    log_level: str = "INFO"
    lwa_layer_arn: str | None = None
    #: Resource-level deletion protection (ALB, RDS, table). Off by default: with it on, a failed FIRST deploy
    #: cannot roll back (CloudFormation cannot delete the protected resources it just created).
    deletion_protection: bool = False
    #: Keep the data (table, log bucket: RetainExceptOnCreate; database: final snapshot) when the stack or
    #: the resource goes away. Independent of deletion_protection and harmless to a failed first deploy.
    retain_data: bool = True
    #: AWS Marketplace product ids the LiteLLM task may subscribe to (empty: any, as Bedrock's automatic
    #: model access needs for third-party models).
    marketplace_product_ids: tuple[str, ...] = ()
    #: ``BEDROCK_MODEL_ALIASES`` as compact JSON (Bedrock model id or pattern -> LiteLLM model name), for the
    #: middleware's environment; ``None``: no aliases. The gateway parses it again at start-up.
    bedrock_model_aliases: str | None = None
    #: LiteLLM's admin UI at <ServiceURL>/ui (UI_ACCESS on|off): its pages, assets and login pass without the
    #: authorizer; off: API Gateway answers them 404 (docs/operations.md, "Admin UI").
    ui_access: bool = True
    #: GUARDRAIL_MAP for the middleware (Bedrock guardrail id[:version] -> LiteLLM guardrail names), compact JSON.
    guardrail_map: str | None = None
    sizing: Sizing = field(default_factory=Sizing)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Validate ``env`` (``.env`` + environment) and return the settings; raise :class:`SettingsError`."""
        r = _Reader(env)
        certificate_arn = r.match(
            "CERTIFICATE_ARN",
            _CERT_ARN,
            "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)",
        )
        domain_name = r.str("DOMAIN_NAME")
        if domain_name is not None:
            domain_name = domain_name.lower().rstrip(".")
            if not _DOMAIN.match(domain_name):
                raise SettingsError("DOMAIN_NAME", f"{domain_name!r} is not a fully qualified domain name")
        if domain_name and not certificate_arn:
            raise SettingsError("DOMAIN_NAME", "is set but CERTIFICATE_ARN is not; a custom domain needs both")
        if certificate_arn and not domain_name:
            raise SettingsError("CERTIFICATE_ARN", "is set but DOMAIN_NAME is not; a custom domain needs both")
        region = r.str("AWS_REGION") or r.str("CDK_DEFAULT_REGION") or r.str("AWS_DEFAULT_REGION") or "us-east-1"
        if not _REGION.match(region):
            raise SettingsError("AWS_REGION", f"{region!r} is not an AWS region name (e.g. us-east-1)")
        if certificate_arn and certificate_arn.split(":")[3] != region:
            raise SettingsError(
                "CERTIFICATE_ARN",
                f"is in {certificate_arn.split(':')[3]} but the stack deploys to {region}; "
                "a regional API Gateway domain needs a certificate in the same region",
            )
        issuer = _issuer(r)
        audience = r.str("OKTA_AUDIENCE")
        if issuer and not audience:
            raise SettingsError("OKTA_AUDIENCE", "is required when OKTA_ISSUER is set (the JWT 'aud' to accept)")
        if audience and not issuer:
            raise SettingsError("OKTA_ISSUER", "is required when OKTA_AUDIENCE is set")
        extra = tuple(k.strip() for k in (r.str("EXTRA_PROVIDER_KEYS") or "").split(",") if k.strip())
        for name in extra:
            if not _ENV_NAME.match(name):
                raise SettingsError("EXTRA_PROVIDER_KEYS", f"{name!r} is not an environment variable name")
        provider_keys = tuple(dict.fromkeys(k for k in (*PROVIDER_KEY_NAMES, *extra) if r.str(k)))
        return cls(
            stack_name=r.match("STACK_NAME", _NAME, "a stack name (letters, digits, '-')", "GenAIGateway")
            or "GenAIGateway",
            region=region,
            account=r.match("CDK_DEFAULT_ACCOUNT", _ACCOUNT, "a 12-digit account id"),
            architecture=r.choice("LAMBDA_ARCHITECTURE", "arm64", ("arm64", "x86_64")),  # type: ignore[arg-type]
            ecs_architecture=r.choice("ECS_ARCHITECTURE", "x86_64", ("arm64", "x86_64")),  # type: ignore[arg-type]
            certificate_arn=certificate_arn,
            domain_name=domain_name,
            existing_vpc_id=r.match("EXISTING_VPC_ID", _VPC_ID, "a VPC id (vpc-0123456789abcdef0)"),
            okta_issuer=issuer,
            okta_audience=audience,
            provider_keys=provider_keys,
            langsmith_enabled=r.str("LANGSMITH_API_KEY") is not None,
            langsmith_project=r.str("LANGSMITH_PROJECT"),
            langsmith_default_run_name=r.str("LANGSMITH_DEFAULT_RUN_NAME"),
            alarm_email=r.match("ALARM_EMAIL", _EMAIL, "an e-mail address"),
            history_ttl_days=r.int("HISTORY_TTL_DAYS", 90, 1, 3650),
            okta_options=tuple((name, r.str(name)) for name in OKTA_OPTION_NAMES if r.str(name)),
            log_level=r.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
            lwa_layer_arn=r.match("LWA_LAYER_ARN", _LAYER_ARN, "a Lambda layer version ARN"),
            deletion_protection=r.bool("DELETION_PROTECTION", False),
            retain_data=r.bool("RETAIN_DATA", True),
            marketplace_product_ids=_product_ids(r),
            bedrock_model_aliases=_model_aliases(r),
            ui_access=r.choice("UI_ACCESS", "on", ("on", "off")) == "on",
            guardrail_map=_guardrail_map(r),
            sizing=_sizing(r, new_vpc=r.str("EXISTING_VPC_ID") is None),
        )


#: Settings an older ``.env`` may still carry: refused with the reason, never silently ignored.
RETIRED_SETTINGS: dict[str, str] = {
    "AUTHORIZER_CACHE_TTL_SECONDS": "API Gateway's authorizer cache is off so that keys sent in x-api-key or "
    "api-key are accepted; the authorizer function caches keys itself (docs/deploy.md, 'Auth')",
}


def _model_aliases(r: _Reader) -> str | None:
    """A JSON object of Bedrock model id or pattern -> LiteLLM model name (docs/bedrock-interface.md)."""
    raw = r.str("BEDROCK_MODEL_ALIASES")
    if raw is None:
        return None
    try:
        aliases = json.loads(raw)
    except ValueError as exc:
        raise SettingsError("BEDROCK_MODEL_ALIASES", f"is not valid JSON: {exc}") from None
    if not isinstance(aliases, dict):
        raise SettingsError(
            "BEDROCK_MODEL_ALIASES", "must be a JSON object of model id or pattern -> LiteLLM model name"
        )
    for key, target in aliases.items():
        if not key.strip() or not isinstance(target, str) or not target.strip():
            raise SettingsError("BEDROCK_MODEL_ALIASES", f"{key!r} must map to a LiteLLM model name, got {target!r}")
    return json.dumps(aliases, separators=(",", ":")) if aliases else None


def _product_ids(r: _Reader) -> tuple[str, ...]:
    ids = tuple(dict.fromkeys(p.strip() for p in (r.str("BEDROCK_MARKETPLACE_PRODUCT_IDS") or "").split(",")))
    ids = tuple(p for p in ids if p)
    for product in ids:
        if not _PRODUCT_ID.match(product):
            raise SettingsError("BEDROCK_MARKETPLACE_PRODUCT_IDS", f"{product!r} is not a Marketplace product id")
    return ids


def _guardrail_map(r: _Reader) -> str | None:
    """The same rules as the middleware's (gateway/converse/guardrails.py), checked before deploying."""
    raw = r.str("GUARDRAIL_MAP")
    if raw is None:
        return None
    try:
        mapping = json.loads(raw)
    except ValueError:
        raise SettingsError("GUARDRAIL_MAP", "is not JSON") from None
    if not isinstance(mapping, dict):
        raise SettingsError("GUARDRAIL_MAP", 'must be a JSON object {"<guardrail id>[:<version>]": "<LiteLLM name>"}')
    for key, names in mapping.items():
        names = [names] if isinstance(names, str) else names
        if not key.strip() or not isinstance(names, list) or not names:
            raise SettingsError("GUARDRAIL_MAP", f"[{key!r}] must name a LiteLLM guardrail or a list of them")
        if not all(isinstance(n, str) and n.strip() for n in names):
            raise SettingsError("GUARDRAIL_MAP", f"[{key!r}] must name a LiteLLM guardrail or a list of them")
    return json.dumps(mapping, separators=(",", ":"))


def _sizing(r: _Reader, *, new_vpc: bool) -> Sizing:
    for name, why in RETIRED_SETTINGS.items():
        if r.str(name) is not None:
            raise SettingsError(name, f"is no longer used: {why}. Remove it from .env")
    cpu = r.int("ECS_CPU", 1024, 256, 16384)
    if cpu not in FARGATE_MEMORY:
        raise SettingsError("ECS_CPU", f"{cpu} is not a Fargate CPU size ({', '.join(map(str, FARGATE_MEMORY))})")
    memory = r.int("ECS_MEMORY_MIB", 2048, 512, 122880)
    if memory not in FARGATE_MEMORY[cpu]:
        allowed = FARGATE_MEMORY[cpu]
        raise SettingsError(
            "ECS_MEMORY_MIB",
            f"{memory} is not valid with ECS_CPU={cpu} ({allowed.start}..{allowed.stop - 1} step {allowed.step})",
        )
    min_tasks = r.int("ECS_MIN_TASKS", 2, 1, 100)
    max_tasks = r.int("ECS_MAX_TASKS", 10, 1, 500)
    if max_tasks < min_tasks:
        raise SettingsError("ECS_MAX_TASKS", f"{max_tasks} is below ECS_MIN_TASKS={min_tasks}")
    retention = r.int("LOG_RETENTION_DAYS", 90, 1, 3653)
    if retention not in LOG_RETENTION_DAYS:
        raise SettingsError("LOG_RETENTION_DAYS", f"{retention} is not a CloudWatch Logs retention period")
    storage = r.int("DB_ALLOCATED_STORAGE_GIB", 20, 20, 65536)
    max_storage = r.int("DB_MAX_ALLOCATED_STORAGE_GIB", 100, 20, 65536)
    if max_storage < storage:
        raise SettingsError("DB_MAX_ALLOCATED_STORAGE_GIB", f"{max_storage} is below DB_ALLOCATED_STORAGE_GIB")
    reserved = r.str("API_RESERVED_CONCURRENCY")
    auth_reserved = r.int("AUTHORIZER_RESERVED_CONCURRENCY", Sizing.authorizer_reserved_concurrency or 0, 0, 100000)
    provisioned = r.int("API_PROVISIONED_CONCURRENCY", 0, 0, 100000)
    if reserved is not None and provisioned > r.int("API_RESERVED_CONCURRENCY", 0, 1, 100000):
        raise SettingsError("API_PROVISIONED_CONCURRENCY", f"{provisioned} exceeds API_RESERVED_CONCURRENCY")
    return Sizing(
        nat_gateways=r.int("NAT_GATEWAYS", 1, 1, 2),
        interface_endpoints=r.bool("VPC_INTERFACE_ENDPOINTS", False),
        s3_endpoint=r.bool("VPC_S3_ENDPOINT", new_vpc),
        dynamodb_endpoint=r.bool("VPC_DYNAMODB_ENDPOINT", new_vpc),
        ecs_cpu=cpu,
        ecs_memory_mib=memory,
        ecs_min_tasks=min_tasks,
        ecs_max_tasks=max_tasks,
        ecs_cpu_target_percent=r.int("ECS_CPU_TARGET_PERCENT", 60, 10, 95),
        ecs_requests_per_target=r.int("ECS_REQUESTS_PER_TARGET", 500, 1, 100000),
        db_instance_class=r.match("DB_INSTANCE_CLASS", _INSTANCE_CLASS, "an RDS instance class (e.g. t4g.medium)")
        or "t4g.medium",
        db_allocated_storage_gib=storage,
        db_max_allocated_storage_gib=max_storage,
        db_multi_az=r.bool("DB_MULTI_AZ", True),
        db_backup_retention_days=r.int("DB_BACKUP_RETENTION_DAYS", 7, 1, 35),
        cache_node_type=r.match(
            "CACHE_NODE_TYPE", _CACHE_NODE, "an ElastiCache node type (e.g. cache.t4g.small)", "cache.t4g.small"
        )
        or "cache.t4g.small",
        cache_replicas=r.int("CACHE_REPLICAS", 1, 0, 5),
        lambda_memory_mib=r.int("LAMBDA_MEMORY_MIB", 1024, 128, 10240),
        lambda_timeout_seconds=r.int("LAMBDA_TIMEOUT_SECONDS", 900, 10, 900),
        api_reserved_concurrency=None if reserved is None else r.int("API_RESERVED_CONCURRENCY", 0, 1, 100000),
        api_provisioned_concurrency=provisioned,
        authorizer_reserved_concurrency=auth_reserved or None,
        waf_rate_limit=r.int("WAF_RATE_LIMIT", Sizing.waf_rate_limit, 10, 2_000_000_000),
        db_connections_alarm=r.int("DB_CONNECTIONS_ALARM", Sizing.db_connections_alarm, 1, 100000),
        log_retention_days=retention,
    )
