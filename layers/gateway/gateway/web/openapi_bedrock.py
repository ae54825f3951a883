"""JSON Schemas (OpenAPI 3.0 flavour) for the Converse routes, derived from botocore's service model.

The Converse request and response shapes are Bedrock's own, so they are read from the
``bedrock-runtime`` model installed with botocore instead of being written out by hand: every
structure, union and list becomes a named component schema (``$ref``), scalars are inlined.

Deliberate differences from the Smithy model:
- ``pattern`` traits are dropped (they are Java regular expressions, and the gateway does not
  enforce them: any LiteLLM model name is a valid ``modelId``);
- a ``document`` is any JSON value; a blob is a base64 string (``format: byte``), as on the wire;
- URI members (``modelId``) leave the body: they are path parameters.
"""

from __future__ import annotations

from typing import Any

from botocore.model import Shape, StructureShape

SERVICE = "bedrock-runtime"
# The exceptions a Converse route can answer with (the gateway's ErrorKind names map onto these).
ERROR_SHAPES = (
    "ValidationException",
    "AccessDeniedException",
    "ResourceNotFoundException",
    "ModelTimeoutException",
    "ThrottlingException",
    "ModelErrorException",
    "InternalServerException",
    "ServiceUnavailableException",
)
_REF = "#/components/schemas/"


class ShapeSchemas:
    """Collects component schemas for botocore shapes, reachable from the shapes asked for."""

    def __init__(self, service: str = SERVICE) -> None:
        import botocore.session  # only when the document is first asked for

        self.model = botocore.session.get_session().get_service_model(service)
        self.components: dict[str, dict[str, Any]] = {}

    def body(self, operation: str, direction: str) -> dict[str, Any]:
        """The schema of an operation's JSON body (``input`` or ``output``), without URI/header members."""
        op = self.model.operation_model(operation)
        shape = op.input_shape if direction == "input" else op.output_shape
        members = {n: s for n, s in shape.members.items() if not s.serialization.get("location")}
        return self._object(members, [r for r in shape.required_members if r in members])

    def ref(self, shape_name: str) -> dict[str, Any]:
        """A ``$ref`` to the component for the named shape (created on first use)."""
        return self._schema(self.model.shape_for(shape_name))

    def _schema(self, shape: Shape) -> dict[str, Any]:
        kind = shape.type_name
        if kind in ("structure", "list", "map"):
            if shape.name not in self.components:
                self.components[shape.name] = {}  # reserve first: shapes may refer to themselves
                self.components[shape.name] = self._named(shape)
            return {"$ref": _REF + shape.name}
        return self._scalar(shape)

    def _named(self, shape: Shape) -> dict[str, Any]:
        meta = shape.metadata
        if shape.type_name == "list":
            schema: dict[str, Any] = {"type": "array", "items": self._schema(shape.member)}
            _bounds(schema, meta, "minItems", "maxItems")
            return schema
        if shape.type_name == "map":
            return {"type": "object", "additionalProperties": self._schema(shape.value)}
        assert isinstance(shape, StructureShape)
        if meta.get("document"):
            return {"description": "any JSON value (a Smithy document)"}
        schema = self._object(shape.members, list(shape.required_members))
        if meta.get("union"):
            schema.update(minProperties=1, maxProperties=1, description="a union: exactly one member is set")
        if meta.get("eventstream"):
            schema["description"] = "an event stream: each frame carries exactly one of these members"
        return schema

    def _object(self, members: dict[str, Shape], required: list[str]) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {name: self._schema(member) for name, member in members.items()},
            "additionalProperties": False,
        }
        if required:
            schema["required"] = required
        return schema

    @staticmethod
    def _scalar(shape: Shape) -> dict[str, Any]:
        meta, kind = shape.metadata, shape.type_name
        if kind == "string":
            schema: dict[str, Any] = {"type": "string"}
            if shape.enum:
                schema["enum"] = list(shape.enum)
            else:
                _bounds(schema, meta, "minLength", "maxLength")
            return schema
        if kind in ("integer", "long"):
            return _bounds({"type": "integer"}, meta, "minimum", "maximum")
        if kind in ("float", "double"):
            return _bounds({"type": "number"}, meta, "minimum", "maximum")
        if kind == "boolean":
            return {"type": "boolean"}
        if kind == "blob":
            return {"type": "string", "format": "byte"}
        if kind == "timestamp":
            return {"type": "number", "description": "epoch seconds"}
        raise ValueError(f"unsupported botocore shape type {kind} ({shape.name})")


def _bounds(schema: dict[str, Any], meta: dict[str, Any], low: str, high: str) -> dict[str, Any]:
    if "min" in meta:
        schema[low] = meta["min"]
    if "max" in meta:
        schema[high] = meta["max"]
    return schema


def path_parameter(name: str, description: str) -> dict[str, Any]:
    """A required, non-empty path parameter of a Bedrock route (model ids, profile ids, ARNs)."""
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "minLength": 1}}  # fmt: skip
