"""A GetPrompt response + ``promptVariables`` -> the OpenAI-format pieces of a chat request (pure).

- The variant used is ``defaultVariant`` (else the first one). Its ``modelId`` is the LiteLLM model
  name, taken as is: the deployed LiteLLM config needs a ``model_name`` equal to it (e.g.
  ``anthropic.claude-3-haiku-20240307-v1:0``, or any alias such as ``fake``).
- TEXT templates become one user message; CHAT templates become system + messages, and their
  ``toolConfiguration`` becomes OpenAI ``tools`` / ``tool_choice``. A chat template is Converse-shaped,
  so it goes through the Converse translator (cache points and all) instead of a second copy of it.
- The prompt's variables are its declared ``inputVariables`` plus every ``{{name}}`` in its texts;
  all must be given (``{"name": {"text": "value"}}``) and no others. Substitution is one pass, so a
  value containing ``{{x}}`` is sent literally.
- ``inferenceConfiguration.text`` and ``additionalModelRequestFields`` become defaults that the
  request may override (see ``apply.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gateway.converse.translate import converse_request_to_openai
from gateway.errors import ErrorKind, GatewayError, validation

PLACEHOLDER = re.compile(r"\{\{([0-9A-Za-z_-]+)\}\}")
_PIECES = ("model", "messages", "tools", "tool_choice")


@dataclass(frozen=True)
class ResolvedPrompt:
    arn: str  # as the caller gave it
    model: str  # LiteLLM model name (the variant's modelId)
    messages: list[dict]  # OpenAI format: system first, then the template's messages
    tools: list[dict] | None = None
    tool_choice: str | dict | None = None
    defaults: dict[str, Any] = field(default_factory=dict)  # temperature, top_p, max_tokens, stop, extras


def _bad_prompt(arn: str, problem: str) -> GatewayError:
    return validation(f"prompt {arn} cannot be used: {problem}")


def _variant(response: dict, arn: str) -> dict:
    variants = [v for v in response.get("variants") or [] if isinstance(v, dict)]
    if not variants:
        raise _bad_prompt(arn, "it has no variant")
    default = response.get("defaultVariant")
    return next((v for v in variants if v.get("name") == default), variants[0])


def _values(variables: Any) -> dict[str, str]:
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise validation("promptVariables must be an object", param="promptVariables")
    values = {}
    for name, value in variables.items():
        text = value.get("text") if isinstance(value, dict) else None
        if not isinstance(text, str) or set(value) != {"text"}:
            raise validation(f'promptVariables.{name} must be {{"text": "<value>"}}', param="promptVariables")
        values[name] = text
    return values


def _texts(template_type: str, config: dict) -> list[str]:
    """Every text of the template that may hold placeholders."""
    if template_type == "TEXT":
        return [config.get("text") or ""]
    texts = [b["text"] for b in config.get("system") or [] if isinstance(b, dict) and isinstance(b.get("text"), str)]
    for message in config.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        texts += [b["text"] for b in content or [] if isinstance(b, dict) and isinstance(b.get("text"), str)]
    return texts


def _check_variables(config: dict, texts: list[str], values: dict[str, str]) -> None:
    declared = {v["name"] for v in config.get("inputVariables") or [] if isinstance(v, dict) and v.get("name")}
    expected = declared | {name for text in texts for name in PLACEHOLDER.findall(text)}
    problems = []
    if missing := sorted(expected - values.keys()):
        problems.append(f"missing prompt variable(s): {', '.join(missing)}")
    if unknown := sorted(values.keys() - expected):
        problems.append(f"unknown prompt variable(s): {', '.join(unknown)}")
    if problems:
        raise validation("; ".join(problems), param="promptVariables")


def _fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m[1]], text)


def _filled_blocks(blocks: Any, values: dict[str, str]) -> Any:
    if not isinstance(blocks, list):
        return blocks  # left for the translator to reject
    return [
        {**b, "text": _fill(b["text"], values)} if isinstance(b, dict) and isinstance(b.get("text"), str) else b
        for b in blocks
    ]


def _converse_body(template_type: str, config: dict, values: dict[str, str]) -> dict:
    """The template as a Converse request body (new objects: the cached response is never mutated)."""
    if template_type == "TEXT":
        content: list[dict] = [{"text": _fill(config.get("text") or "", values)}]
        if config.get("cachePoint"):
            content.append({"cachePoint": config["cachePoint"]})
        return {"messages": [{"role": "user", "content": content}]}
    body: dict[str, Any] = {"messages": []}
    for message in config.get("messages") or []:
        if isinstance(message, dict):
            message = {**message, "content": _filled_blocks(message.get("content"), values)}
        body["messages"].append(message)
    if config.get("system"):
        body["system"] = _filled_blocks(config["system"], values)
    if config.get("toolConfiguration"):
        body["toolConfig"] = config["toolConfiguration"]
    return body


def _inference(variant: dict) -> dict | None:
    config = (variant.get("inferenceConfiguration") or {}).get("text")
    if not isinstance(config, dict):
        return None
    # Unset-looking values (maxTokens 0, no stop sequences) are left to the model's defaults.
    kept = {k: v for k, v in config.items() if v is not None and v != [] and not (k == "maxTokens" and v == 0)}
    return kept or None


def render_prompt(response: dict, variables: Any, *, arn: str) -> ResolvedPrompt:
    """Fill and translate one GetPrompt response; ``validation(...)`` for bad variables or templates."""
    variant = _variant(response, arn)
    model = variant.get("modelId")
    if not isinstance(model, str) or not model:
        raise _bad_prompt(arn, "its variant has no modelId (agent prompts are not supported)")
    template_type = variant.get("templateType")
    key = {"TEXT": "text", "CHAT": "chat"}.get(template_type)
    config = (variant.get("templateConfiguration") or {}).get(key) if key else None
    if not isinstance(config, dict):
        raise _bad_prompt(arn, f"unsupported template type {template_type!r}")

    values = _values(variables)
    _check_variables(config, _texts(template_type, config), values)
    body = _converse_body(template_type, config, values)
    if inference := _inference(variant):
        body["inferenceConfig"] = inference
    if variant.get("additionalModelRequestFields"):
        body["additionalModelRequestFields"] = variant["additionalModelRequestFields"]
    for i, message in enumerate(body["messages"]):  # Prompt management's roles (Converse also takes system)
        if isinstance(message, dict) and message.get("role") not in ("user", "assistant"):
            raise _bad_prompt(arn, f"messages[{i}].role must be one of user, assistant")
    try:
        out = converse_request_to_openai(arn, body).openai_body
    except GatewayError as e:
        if e.kind is not ErrorKind.VALIDATION:
            raise
        raise _bad_prompt(arn, e.message) from None
    return ResolvedPrompt(
        arn=arn,
        model=model,
        messages=out["messages"],
        tools=out.get("tools"),
        tool_choice=out.get("tool_choice"),
        defaults={k: v for k, v in out.items() if k not in _PIECES},
    )
