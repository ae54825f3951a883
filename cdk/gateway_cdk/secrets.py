"""Secrets: generated keys (LiteLLM master and salt keys, the gateway's hash salt, Redis AUTH) and
provider API keys from ``.env``.

No secret value is ever written into the template: generated values are created by Secrets Manager,
and provider keys arrive as ``NoEcho`` CloudFormation parameters that ``make deploy`` fills from ``.env``
(``cdk/deploy.py``), so the template only holds a ``Ref``.
"""

from __future__ import annotations

from aws_cdk import CfnParameter, Fn, RemovalPolicy, SecretValue
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from .common import suppress
from .settings import Settings

_NO_ROTATION = (
    "Rotating this value needs a coordinated restart of LiteLLM and the gateway (and reissues every "
    "credential derived from it); rotate by updating the secret and redeploying, as docs/deploy.md says."
)


def parameter_name(env_name: str) -> str:
    """CloudFormation parameter name for a provider key, e.g. ``OPENAI_API_KEY`` -> ``OpenaiApiKey``."""
    return "".join(part.capitalize() for part in env_name.lower().split("_"))


def _generated(scope: Construct, construct_id: str, description: str, length: int = 48) -> sm.Secret:
    return sm.Secret(
        scope,
        construct_id,
        description=description,
        removal_policy=RemovalPolicy.DESTROY,
        generate_secret_string=sm.SecretStringGenerator(password_length=length, exclude_punctuation=True),
    )


class GatewaySecrets(Construct):
    """All secrets of the deployment; consumers read them at runtime by ARN (grant read)."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        seed = _generated(self, "MasterKeySeed", "Random part of the LiteLLM master key (internal).")
        # LiteLLM keys start with "sk-": the master key is "sk-" + the generated seed, resolved by
        # CloudFormation at deploy time through a dynamic reference (no value in the template).
        self.master_key = sm.Secret(
            self,
            "MasterKey",
            description="LiteLLM master key (admin). Read it with: aws secretsmanager get-secret-value",
            removal_policy=RemovalPolicy.DESTROY,
            secret_string_value=SecretValue.unsafe_plain_text(Fn.join("", ["sk-", seed.secret_value.unsafe_unwrap()])),
        )
        self.salt_key = _generated(self, "SaltKey", "LITELLM_SALT_KEY: encrypts provider credentials stored in the DB.")
        self.hash_salt = _generated(self, "HashSalt", "Salt the gateway hashes API keys with (chat-history owners).")
        self.redis_auth = _generated(self, "RedisAuth", "ElastiCache Redis AUTH token.", length=64)

        self.provider_keys: dict[str, sm.Secret] = {}
        names = list(settings.provider_keys)
        if settings.langsmith_enabled:
            names.append("LANGSMITH_API_KEY")
        for env_name in names:
            param = CfnParameter(
                self,
                parameter_name(env_name),
                type="String",
                no_echo=True,
                min_length=1,
                description=f"{env_name} from .env (filled by make deploy; never stored in the template)",
            )
            param.override_logical_id(parameter_name(env_name))
            self.provider_keys[env_name] = sm.Secret(
                self,
                parameter_name(env_name) + "Secret",
                description=f"{env_name} for LiteLLM",
                removal_policy=RemovalPolicy.DESTROY,
                secret_string_value=SecretValue.cfn_parameter(param),
            )

        suppress(self, {"AwsSolutions-SMG4": _NO_ROTATION})
