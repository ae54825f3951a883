"""An InvokeModel body in Anthropic Messages format → the body and headers of LiteLLM's ``/v1/messages``.

Bedrock's Anthropic body is Anthropic's Messages request without ``model`` and ``stream`` (the path
names the model and the operation) plus ``anthropic_version`` (``bedrock-2023-05-31``) and, optionally,
``anthropic_beta`` (a list of beta names, which Anthropic's own API takes as the ``anthropic-beta``
header). LiteLLM's ``/v1/messages`` takes Anthropic's own shape, so this module checks the envelope,
moves ``anthropic_beta`` into the header (merged with an ``anthropic-beta`` header the client sent) and
names the model. Everything else (system, every content block type, tools, tool_choice, thinking,
stop_sequences, temperature/top_p/top_k, metadata…) goes to LiteLLM as it came, which answers natively
for Anthropic models (Anthropic, Bedrock, Vertex) and translates for every other model.

Only the envelope is checked here, so that a body in another format (Converse, Titan, OpenAI…) gets a
``ValidationException`` naming the supported one instead of a confusing error from deeper down.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.errors import GatewayError, validation

BEDROCK_ANTHROPIC_VERSION = "bedrock-2023-05-31"
SUPPORTED_FORMAT = (
    "the invoke routes take an Anthropic Messages body: "
    f'{{"anthropic_version": "{BEDROCK_ANTHROPIC_VERSION}", "max_tokens": <int>, '
    '"messages": [{"role": "user", "content": ...}], ...} '
    "(for other request formats use /converse or /converse-stream)"
)
#: Keys Bedrock refuses in the body: the path carries the model and the operation.
_PATH_KEYS = ("model", "stream")


@dataclass(frozen=True)
class MessagesCall:
    """What to send to LiteLLM's ``/v1/messages``."""

    body: dict
    betas: tuple[str, ...] = ()

    def headers(self) -> dict[str, str]:
        """The ``anthropic-beta`` header, when there are betas (LiteLLM forwards it to Anthropic models)."""
        return {"anthropic-beta": ",".join(self.betas)} if self.betas else {}


def not_anthropic(detail: str) -> GatewayError:
    return validation(f"{detail}: {SUPPORTED_FORMAT}")


def invoke_to_messages(model: str, body: dict, *, stream: bool, beta_header: str | None = None) -> MessagesCall:
    """Check ``body`` (a JSON object) is an Anthropic Messages body; the LiteLLM call for ``model``."""
    version = body.get("anthropic_version")
    if not isinstance(version, str) or not version.strip():
        raise not_anthropic("anthropic_version is missing")
    _check_messages(body.get("messages"))
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise not_anthropic("max_tokens must be a positive integer")
    for key in _PATH_KEYS:
        if key in body:
            # Bedrock's own wording for these keys
            raise validation(f"Malformed input request: #: extraneous key [{key}] is not permitted")
    betas = _betas(body.get("anthropic_beta"), beta_header)
    messages_body = {k: v for k, v in body.items() if k not in ("anthropic_version", "anthropic_beta")}
    messages_body["model"] = model
    messages_body["stream"] = stream
    return MessagesCall(messages_body, betas)


def _check_messages(messages: object) -> None:
    if not isinstance(messages, list) or not messages:
        raise not_anthropic("messages must be a non-empty list")
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise not_anthropic(f"{where} must be an object")
        role = message.get("role")
        if not isinstance(role, str) or not role:
            # which roles a model takes is LiteLLM's to say (Claude Code also sends mid-conversation "system")
            raise not_anthropic(f"{where}.role must be a string ('user', 'assistant')")
        content = message.get("content")
        if isinstance(content, str):
            continue
        if not isinstance(content, list):
            raise not_anthropic(f"{where}.content must be a string or a list of content blocks")
        for block_index, block in enumerate(content):
            if not isinstance(block, dict) or not isinstance(block.get("type"), str):
                raise not_anthropic(f"{where}.content[{block_index}] must be a content block with a 'type'")


def _betas(body_betas: object, header: str | None) -> tuple[str, ...]:
    """The body's ``anthropic_beta`` list, then the header's comma-separated names, each once."""
    if body_betas is None:
        body_betas = []
    if not isinstance(body_betas, list) or not all(isinstance(b, str) for b in body_betas):
        raise validation("anthropic_beta must be a list of strings", param="anthropic_beta")
    from_header = (header or "").split(",")
    return tuple(_unique(name.strip() for name in [*body_betas, *from_header] if name.strip()))


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
