"""Per-route latency metrics as CloudWatch Embedded Metric Format (EMF) lines (Powertools Metrics).

One metric per request, dimensions ``service`` and ``route`` (a route *family*, a small fixed set, never
a raw path):

* ``TimeToFirstByte`` (ms) for a streamed answer (``text/event-stream`` or Bedrock's
  ``application/vnd.amazon.eventstream``): the time until the first body bytes go out. A 15-minute
  stream is a healthy stream, so its total duration says nothing about latency.
* ``Latency`` (ms) for every other answer: the total time until the last byte.

The latency alarms of the stack (``cdk/gateway_cdk/observability.py``) read these metrics instead of
API Gateway's integration latency, which counts a whole stream.

EMF lines are JSON on stdout, which CloudWatch Logs turns into metrics in Lambda. Elsewhere (``make
local``, tests) they would only clutter the console, so they are written only inside Lambda, or when
``GATEWAY_EMF_METRICS=true``; ``POWERTOOLS_METRICS_DISABLED=true`` turns them off everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from gateway.log import logger

NAMESPACE_DEFAULT = "GenAIGateway"
SERVICE_DEFAULT = "genai-gateway"
TIME_TO_FIRST_BYTE = "TimeToFirstByte"
LATENCY = "Latency"
STREAM_CONTENT_TYPES = (b"text/event-stream", b"application/vnd.amazon.eventstream")

#: Route families, matched on the path in order (first hit wins); anything else is ``litellm``
#: (the pass-through to LiteLLM: models, keys, spend, the admin UI ...).
_FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("chat", ("/v1/chat/completions", "/chat/completions")),
    ("completions", ("/v1/completions", "/completions")),
    ("embeddings", ("/v1/embeddings", "/embeddings")),
    ("responses", ("/v1/responses", "/responses")),
    ("messages", ("/v1/messages",)),
    ("history", ("/chat-history", "/bedrock/chat-history", "/session-ids", "/v1/conversations")),
    ("bedrock-control", ("/bedrock/inference-profiles", "/bedrock/foundation-models")),
    ("account", ("/user/new", "/key/generate")),
)
#: ``/bedrock/model/{id}/<suffix>``: the Bedrock runtime routes (a model id may itself hold ``/``).
_BEDROCK_MODEL_ROUTES = (
    ("/converse", "converse"),
    ("/converse-stream", "converse"),
    ("/invoke", "invoke"),
    ("/invoke-with-response-stream", "invoke"),
    ("/count-tokens", "bedrock-control"),
)
#: Families whose latency is a model's latency: the stack alarms on these.
MODEL_FAMILIES = ("chat", "converse", "invoke", "completions", "embeddings", "responses", "messages")
ALL_FAMILIES = (*MODEL_FAMILIES, "history", "bedrock-control", "account", "litellm")
#: Not measured: the Lambda Web Adapter's readiness probe.
_UNMEASURED = ("/gateway/health",)


def route_family(path: str) -> str | None:
    """The family of ``path`` (``None``: not measured)."""
    if path in _UNMEASURED:
        return None
    if path.startswith("/bedrock/model/"):
        for suffix, family in _BEDROCK_MODEL_ROUTES:
            if path.endswith(suffix):
                return family
    for family, prefixes in _FAMILIES:
        if any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes):
            return family
    return "litellm"


def is_stream(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the response headers announce a streamed body."""
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.split(b";", 1)[0].strip().lower() in STREAM_CONTENT_TYPES
    return False


def emf_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Write EMF lines only where CloudWatch reads them (Lambda) or when asked to."""
    env = os.environ if environ is None else environ
    if is_metrics_disabled():
        return False
    forced = env.get("GATEWAY_EMF_METRICS", "").strip().lower()
    if forced in ("0", "false", "no", "off"):
        return False
    return forced in ("1", "true", "yes", "on") or bool(env.get("AWS_LAMBDA_FUNCTION_NAME"))


class RouteMetrics:
    """Emits one EMF record per measured request (a fresh metric set each time: requests run concurrently)."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = emf_enabled() if enabled is None else enabled
        self.namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or NAMESPACE_DEFAULT
        self.service = os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE_DEFAULT

    def record(self, path: str, *, stream: bool, milliseconds: float) -> None:
        """``milliseconds`` is the time to first byte of a stream, else the total latency."""
        if not self.enabled:  # outside Lambda: nothing to work out per request
            return
        family = route_family(path)
        if family is None:
            return
        try:
            provider = AmazonCloudWatchEMFProvider(namespace=self.namespace, service=self.service)
            provider.add_dimension(name="route", value=family)
            provider.add_metric(
                name=TIME_TO_FIRST_BYTE if stream else LATENCY, unit=MetricUnit.Milliseconds, value=milliseconds
            )
            provider.flush_metrics()
        except Exception:  # a metric must never fail a request that already went out
            logger.exception("could not emit the route metric", extra={"route": family})
