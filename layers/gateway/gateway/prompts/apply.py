"""Merge a resolved prompt into an OpenAI chat body (pure).

Order of messages: the prompt's system message(s), the request's own system/developer messages,
the prompt's messages, then the request's other messages. (Instructions first is the order the chat
service keeps anyway once session history is prepended.) The request wins for every inference
field it sets itself, and keeps its own ``tools`` (and ``tool_choice``) if it sends any.

A prompt opens a conversation once: a turn that continues a stored session (whose history already
holds the prompt's messages) gets only the prompt's system messages (never stored, so sent every
turn), its model, defaults and tools — ``conversation=False``.
"""

from __future__ import annotations

from gateway.errors import validation
from gateway.prompts.render import ResolvedPrompt

_INSTRUCTION_ROLES = frozenset({"system", "developer"})
# a prompt default is skipped when the request sets the field under any of these names
_ALIASES: dict[str, tuple[str, ...]] = {"max_tokens": ("max_tokens", "max_completion_tokens")}


def _is_instruction(message: object) -> bool:
    return isinstance(message, dict) and message.get("role") in _INSTRUCTION_ROLES


def apply_prompt(body: dict, resolved: ResolvedPrompt, *, conversation: bool = True) -> dict:
    """A new body: ``model`` is the prompt's model, ``messages`` the prompt's plus the request's
    (of the prompt's, only its system messages unless ``conversation``)."""
    own = body.get("messages")
    if own is None:
        own = []
    if not isinstance(own, list):
        raise validation("messages must be a list of message objects", param="messages")
    out = dict(body)
    out["model"] = resolved.model
    out["messages"] = [
        *(m for m in resolved.messages if _is_instruction(m)),
        *(m for m in own if _is_instruction(m)),
        *(m for m in resolved.messages if conversation and not _is_instruction(m)),
        *(m for m in own if not _is_instruction(m)),
    ]
    for key, value in resolved.defaults.items():
        if all(body.get(name) is None for name in _ALIASES.get(key, (key,))):
            out[key] = value
    if resolved.tools and not body.get("tools") and not body.get("functions"):
        out["tools"] = resolved.tools
        if resolved.tool_choice is not None and body.get("tool_choice") is None:
            out["tool_choice"] = resolved.tool_choice
    return out
