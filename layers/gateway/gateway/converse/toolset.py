"""Bedrock's mid-conversation tool changes (``toolAddition`` / ``toolRemoval``), emulated.

Bedrock lets a ``system``-role message take a tool of ``toolConfig`` out of the tool set, or put one
back, without re-sending ``toolConfig``. LiteLLM's chat completions carry one tool list per request,
so the gateway applies the changes itself: the request's tool list is ``toolConfig``'s tools, minus
the tools a removal took out and no later addition put back, in ``toolConfig``'s order. A reference
must name a tool declared in ``toolConfig`` (Bedrock's own rule); the model's earlier calls of a
removed tool stay in the history (OpenAI's format accepts calls of tools no longer listed, and
LiteLLM sends Claude a placeholder tool when a history with tool calls comes with none).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from gateway.errors import validation

_REFERENCE_FIELDS = ("type", "name", "serverName")


@dataclass(frozen=True)
class ToolChange:
    add: bool  # toolAddition (True) or toolRemoval (False)
    name: str
    path: str  # where the block is, for errors: messages[i].content[j].toolAddition


def tool_change(kind: str, value: Any, path: str) -> ToolChange:
    """A checked ``toolAddition`` / ``toolRemoval`` block."""
    if not isinstance(value, dict):
        raise validation(f"{path} must be an object")
    unknown = sorted(str(k) for k in value if k != "tool")
    if unknown:
        raise validation(f"{path} has unknown field(s): {', '.join(unknown)}")
    ref = value.get("tool")
    if not isinstance(ref, dict):
        raise validation(f"{path}.tool must be an object")
    unknown = sorted(str(k) for k in ref if k not in _REFERENCE_FIELDS)
    if unknown:
        raise validation(f"{path}.tool has unknown field(s): {', '.join(unknown)}")
    for key in ("type", "serverName"):
        if ref.get(key) is not None and (not isinstance(ref[key], str) or not ref[key]):
            raise validation(f"{path}.tool.{key} must be a non-empty string")
    if ref.get("serverName") is not None:
        raise validation(
            f"{path}.tool.serverName is not supported: MCP server tools cannot be declared in a Converse "
            "toolConfig, so the gateway has none to add or remove (reference a toolSpec by name)"
        )
    name = ref.get("name")
    if not isinstance(name, str) or not name:
        raise validation(f"{path}.tool.name must be a non-empty string")
    return ToolChange(add=kind == "toolAddition", name=name, path=path)


def removed_tools(declared: Collection[str], changes: Iterable[ToolChange]) -> frozenset[str]:
    """The declared tools that are out of the tool set once every change is applied in order."""
    removed: set[str] = set()
    for change in changes:
        if change.name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            where = f"{change.path}.tool.name '{change.name}'"
            raise validation(f"{where} is not a tool declared in toolConfig.tools (declared: {known})")
        if change.add:
            removed.discard(change.name)
        else:
            removed.add(change.name)
    return frozenset(removed)
