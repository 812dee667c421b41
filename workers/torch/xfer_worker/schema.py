"""A small JSON Schema (draft 2020-12 subset) validator for the protocol frames.

``jsonschema`` is not part of the CI image, so this module implements the keywords that
``z.toJSONSchema`` emits for the core protocol: type, const, enum, minLength, maxLength, pattern, format
(ignored), minimum, maximum, exclusiveMinimum, exclusiveMaximum, items, minItems, maxItems, properties,
required, additionalProperties, propertyNames, anyOf, oneOf, allOf and default. ``validate`` returns a copy of
the value with defaults filled in, as zod's ``parse`` does on the TypeScript side, or raises ``SchemaError``
naming the offending field.
"""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("protocol.schema.json")


class SchemaError(ValueError):
    """A value does not match the schema. ``field`` is a dotted path such as ``params.requests[0].id``."""

    def __init__(self, field: str, message: str):
        super().__init__(f"field '{field or '(root)'}': {message}")
        self.field = field
        self.message = message


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _type_matches(value: Any, expected: str) -> bool:
    if expected == "string":
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "null":
        return value is None
    if expected == "object":
        return isinstance(value, dict)
    if expected == "array":
        return isinstance(value, list)
    if isinstance(value, bool):
        return False
    if expected == "number":
        return isinstance(value, (int, float)) and math.isfinite(value)
    if expected == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    return False


_pattern_cache: dict[str, re.Pattern[str]] = {}


def _discriminator(alternatives: list[dict[str, Any]]) -> str | None:
    """A property whose `const` tells the alternatives apart (zod discriminated unions), if there is one."""
    for key in ("type", "kind"):
        consts = []
        for alternative in alternatives:
            prop = alternative.get("properties", {}).get(key, {})
            if "const" not in prop:
                break
            consts.append(prop["const"])
        else:
            if len(set(map(json.dumps, consts))) == len(consts):
                return key
    return None


def validate(schema: dict[str, Any], value: Any, path: str = "") -> Any:
    """Validate ``value`` against ``schema``; return it with defaults applied (the input is not mutated)."""
    if schema is True or schema == {}:
        return copy.deepcopy(value)
    if schema is False:
        raise SchemaError(path, "no value is allowed here")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_matches(value, t) for t in types):
            raise SchemaError(path, f"expected {' or '.join(types)}, got {type(value).__name__}")
    if "const" in schema and value != schema["const"]:
        raise SchemaError(path, f"expected {json.dumps(schema['const'])}")
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaError(path, f"expected one of {json.dumps(schema['enum'])}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise SchemaError(path, f"must be at least {schema['minLength']} character(s)")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise SchemaError(path, f"must be at most {schema['maxLength']} character(s)")
        if "pattern" in schema:
            pattern = _pattern_cache.setdefault(schema["pattern"], re.compile(schema["pattern"]))
            if not pattern.search(value):
                raise SchemaError(path, f"does not match {schema['pattern']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise SchemaError(path, f"must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise SchemaError(path, f"must be <= {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            raise SchemaError(path, f"must be > {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            raise SchemaError(path, f"must be < {schema['exclusiveMaximum']}")
    result = value
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise SchemaError(path, f"must have at least {schema['minItems']} item(s)")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise SchemaError(path, f"must have at most {schema['maxItems']} item(s)")
        if "items" in schema:
            result = [validate(schema["items"], item, _join(path, i)) for i, item in enumerate(value)]
        else:
            result = copy.deepcopy(value)
    if isinstance(value, dict):
        result = {}
        properties = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value and "default" not in properties.get(key, {}):
                raise SchemaError(_join(path, key), "required")
        for key, item in value.items():
            if "propertyNames" in schema:
                validate(schema["propertyNames"], key, _join(path, key))
            if key in properties:
                result[key] = validate(properties[key], item, _join(path, key))
            elif "additionalProperties" in schema:
                result[key] = validate(schema["additionalProperties"], item, _join(path, key))
            else:
                result[key] = copy.deepcopy(item)
        for key, prop in properties.items():
            if key not in result and isinstance(prop, dict) and "default" in prop:
                result[key] = validate(prop, copy.deepcopy(prop["default"]), _join(path, key))
    for sub in schema.get("allOf", []):
        result = validate(sub, result, path)
    for keyword in ("oneOf", "anyOf"):
        if keyword not in schema:
            continue
        alternatives = schema[keyword]
        key = _discriminator(alternatives) if isinstance(value, dict) else None
        if key is not None and key in value:
            chosen = [a for a in alternatives if a["properties"][key]["const"] == value[key]]
            if not chosen:
                allowed = [a["properties"][key]["const"] for a in alternatives]
                raise SchemaError(_join(path, key), f"expected one of {json.dumps(allowed)}")
            result = validate(chosen[0], result, path)
            continue
        matches: list[Any] = []
        errors: list[SchemaError] = []
        for alternative in alternatives:
            try:
                matches.append(validate(alternative, result, path))
            except SchemaError as error:
                errors.append(error)
            if matches and keyword == "anyOf":
                break
        if not matches:
            deepest = max(errors, key=lambda e: len(e.field))
            raise deepest
        result = matches[0]
    return result


_loaded: dict[str, Any] | None = None


def protocol_schema() -> dict[str, Any]:
    """The protocol's JSON Schema as exported from ``@xfer/core`` (``protocol.schema.json``)."""
    global _loaded
    if _loaded is None:
        _loaded = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return _loaded


def validate_request(frame: Any) -> dict[str, Any]:
    """Validate one incoming request frame and fill its defaults."""
    return validate(protocol_schema()["request"], frame)


def validate_response(frame: Any) -> dict[str, Any]:
    """Validate one outgoing frame (used by the tests)."""
    return validate(protocol_schema()["response"], frame)
