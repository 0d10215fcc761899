"""JSON schemas for Gemini: tool parameters and structured output.

By default schemas go out as plain JSON Schema in ``parametersJsonSchema`` and
``responseJsonSchema`` (v1beta). Gemini documents the keywords it honours there: ``$id``,
``$defs``, ``$ref``, ``$anchor``, ``type``, ``format``, ``title``, ``description``, ``enum``,
``items``, ``prefixItems``, ``minItems``, ``maxItems``, ``minimum``, ``maximum``, ``anyOf``,
``oneOf`` (read as anyOf), ``properties``, ``additionalProperties``, ``required`` and
``propertyOrdering``; others are ignored. Only ``$schema`` is removed (rejected in places).

With ``GeminiOptions(legacy_schema=True)`` the schema is converted to the OpenAPI-3.0 subset of
the older ``parameters`` / ``responseSchema`` fields (the Live API and some deployments accept
nothing else), where an unknown keyword is a hard 400 ("Unknown name ... Cannot find field"):
local ``$ref`` are inlined (recursion becomes a bare OBJECT), ``type`` lists become one type plus
``nullable`` (or ``anyOf``), ``oneOf`` becomes ``anyOf`` and a node with ``anyOf`` keeps nothing
else, ``const`` and non-string ``enum`` values become string enums, ``allOf`` of one schema is
merged, ``format`` is kept only where Gemini knows it, empty ``properties`` are dropped, and
every other keyword (``additionalProperties``, ``$schema``, ``uniqueItems``,
``exclusiveMinimum``, ``propertyNames``, ``patternProperties``, ``not``, ``if``/``then``, ...)
is removed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["json_schema", "openapi_schema"]


def json_schema(schema: Any) -> Any:
    """A copy of ``schema`` without ``$schema`` keys (at any depth)."""
    if isinstance(schema, dict):
        return {k: json_schema(v) for k, v in schema.items() if k != "$schema"}
    if isinstance(schema, list):
        return [json_schema(item) for item in schema]
    return schema


_KEEP = frozenset(
    {
        "title",
        "description",
        "nullable",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "default",
        "minimum",
        "maximum",
        "propertyOrdering",
    }
)
_FORMATS = {"STRING": {"enum", "date-time"}, "INTEGER": {"int32", "int64"}}
_FORMATS["NUMBER"] = {"float", "double"}
_MAX_DEPTH = 32


def openapi_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` converted to Gemini's OpenAPI ``Schema`` subset (see the module docstring)."""
    defs = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}
    return _convert(schema, defs, (), 0)


def _resolve(ref: str, defs: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix):
            target = defs.get(ref[len(prefix) :])
            return ref, target if isinstance(target, dict) else None
    return ref, None


def _convert(node: Any, defs: dict[str, Any], seen: tuple[str, ...], depth: int) -> dict[str, Any]:
    if not isinstance(node, dict) or depth > _MAX_DEPTH:
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str):
        name, target = _resolve(ref, defs)
        if target is None or name in seen:
            return {"type": "OBJECT"}  # unresolvable or recursive: the subset cannot say more
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _convert(merged, defs, (*seen, name), depth + 1)
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
        rest = {k: v for k, v in node.items() if k != "allOf"}
        return _convert({**all_of[0], **rest}, defs, seen, depth + 1)
    variants = node.get("anyOf") or node.get("oneOf")
    if isinstance(variants, list) and variants:
        return _any_of(variants, node, defs, seen, depth)
    out: dict[str, Any] = {k: v for k, v in node.items() if k in _KEEP}
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [str(k) for k in kind if k != "null"]
        if "null" in kind:
            out["nullable"] = True
        if len(kinds) > 1:
            base = {k: v for k, v in node.items() if k != "type"}
            options = [_convert({**base, "type": k}, defs, seen, depth + 1) for k in kinds]
            return {"anyOf": options}
        kind = kinds[0] if kinds else None
    if isinstance(kind, str):
        out["type"] = kind.upper()
    if "const" in node:
        out["enum"] = [_string(node["const"])]
    elif isinstance(node.get("enum"), list):
        out["enum"] = [_string(v) for v in node["enum"] if v is not None]
    if "enum" in out:
        out["type"] = "STRING"
        out["format"] = "enum"
    elif isinstance(node.get("format"), str) and node["format"] in _FORMATS.get(
        out.get("type", ""), set()
    ):
        out["format"] = node["format"]
    properties = node.get("properties")
    if isinstance(properties, dict) and properties:
        out["properties"] = {
            name: _convert(value, defs, seen, depth + 1) for name, value in properties.items()
        }
        required = [r for r in node.get("required") or [] if r in properties]
        if required:
            out["required"] = required
    if isinstance(node.get("items"), dict):
        out["items"] = _convert(node["items"], defs, seen, depth + 1)
    if "type" not in out and "properties" in out:
        out["type"] = "OBJECT"
    return out


def _any_of(
    variants: list[Any],
    node: dict[str, Any],
    defs: dict[str, Any],
    seen: tuple[str, ...],
    depth: int,
) -> dict[str, Any]:
    nullable = any(isinstance(v, dict) and v.get("type") == "null" for v in variants)
    options = [
        _convert(v, defs, seen, depth + 1)
        for v in variants
        if not (isinstance(v, dict) and v.get("type") == "null")
    ]
    if len(options) == 1:  # Optional[X]: X, nullable
        single = options[0]
        if "anyOf" not in single:
            for key in ("description", "title"):
                if key in node and key not in single:
                    single[key] = node[key]
            if nullable:
                single["nullable"] = True
        return single
    return {"anyOf": options}  # Gemini: "When using any_of, it must be the only field set"


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
