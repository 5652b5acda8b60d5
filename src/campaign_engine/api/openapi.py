"""The OpenAPI document says what this server checks and answers, no more and no less:

- a 422 is either the list of bad fields or one sentence (a refused command, a value the
  database refused), and its fields are the ones the error handler writes;
- every operation may answer 503 when Temporal or the database cannot be reached;
- a decimal (a JSON number or a string) carries its bounds in JSON Schema's words, on both
  spellings: pydantic leaves ``gt``/``ge``/``le`` beside the ``anyOf``, where no client reads
  them, and the string spelling with no rule at all;
- a body that cannot be read (not UTF-8) answers 400;
- the bearer token is declared only when the server has API_TOKEN set (without it, nothing is
  checked, and a schema asking for it would send clients looking for a token that does not
  exist).
"""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_UNAVAILABLE = str(HTTPStatus.SERVICE_UNAVAILABLE.value)
_UNAUTHORIZED = str(HTTPStatus.UNAUTHORIZED.value)
_UNREADABLE = str(HTTPStatus.BAD_REQUEST.value)

_FIELD_PROBLEM: dict[str, Any] = {
    "title": "ValidationError",
    "type": "object",
    "required": ["loc", "msg", "type"],
    "properties": {
        "loc": {"title": "Location", "type": "array", "items": {"type": ["string", "integer"]}},
        "msg": {"title": "Message", "type": "string"},
        "type": {"title": "Error Type", "type": "string"},
        "input": {
            "title": "Input",
            "description": "the value, when it is a scalar: its first characters when it is "
            "long, NaN or Infinity as strings",
        },
        "input_length": {
            "title": "Input Length",
            "type": "integer",
            "description": "the value's length in characters, when ``input`` quotes a part",
        },
    },
}
_INVALID: dict[str, Any] = {
    "title": "HTTPValidationError",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "title": "Detail",
            "anyOf": [
                {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
                {"type": "string", "description": "why the input or the command was refused"},
            ],
        }
    },
}


_BOUNDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum"}
_UNSIGNED = r"[0-9]+(\.[0-9]+)?"
_UP_TO_100 = r"(100(\.0+)?|[0-9]{1,2}(\.[0-9]+)?)"
_NOT_ZERO = r"(?!0+(\.0+)?$)"


def _decimal_pattern(bounds: dict[str, Any]) -> str:
    """The decimal strings within ``bounds`` (the ones the engine uses: > 0 or >= 0, at
    most 100 or unbounded); other bounds get any plain decimal."""
    low = bounds.get("exclusiveMinimum", bounds.get("minimum"))
    if low is None or float(low) != 0:
        return r"^-?" + _UNSIGNED + "$"
    high = bounds.get("maximum")
    body = _UP_TO_100 if high is not None and float(high) == 100 else _UNSIGNED
    return "^" + (_NOT_ZERO if "exclusiveMinimum" in bounds else "") + body + "$"


def _is_decimal(branches: list[Any]) -> bool:
    types = sorted(str(b.get("type")) for b in branches if isinstance(b, dict))
    return [t for t in types if t != "null"] == ["number", "string"]


def _decimals(node: Any) -> None:
    """Rewrite every decimal's bounds in place, through the whole document."""
    if isinstance(node, list):
        for item in node:
            _decimals(item)
        return
    if not isinstance(node, dict):
        return
    branches = node.get("anyOf")
    if isinstance(branches, list) and _is_decimal(branches):
        number = next(b for b in branches if b["type"] == "number")
        string = next(b for b in branches if b["type"] == "string")
        for pydantic_word, word in _BOUNDS.items():
            if pydantic_word in node:
                number[word] = node.pop(pydantic_word)
        bounds = {k: v for k, v in number.items() if k in _BOUNDS.values()}
        string.setdefault("pattern", _decimal_pattern(bounds))
    for value in node.values():
        _decimals(value)


def _unavailable() -> dict[str, Any]:
    return {
        "description": "Temporal or the database cannot be reached",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }


def _unreadable() -> dict[str, Any]:
    return {
        "description": "the body cannot be read (it is not UTF-8 text)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }


def _error_out(schemas: dict[str, Any]) -> None:
    schemas.setdefault(
        "ErrorOut",
        {
            "title": "ErrorOut",
            "type": "object",
            "required": ["detail"],
            "properties": {"detail": {"title": "Detail", "type": "string"}},
        },
    )


def document(app: FastAPI, *, token_required: bool) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["ValidationError"] = _FIELD_PROBLEM
    schemas["HTTPValidationError"] = _INVALID
    _error_out(schemas)
    _decimals(schemas)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault(_UNAVAILABLE, _unavailable())
            if "requestBody" in operation:
                responses.setdefault(_UNREADABLE, _unreadable())
            if not token_required:
                operation.pop("security", None)
                responses.pop(_UNAUTHORIZED, None)
    if not token_required:
        schema["components"].pop("securitySchemes", None)
    return schema


def install_openapi(app: FastAPI, *, token_required: bool) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app, token_required=token_required)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
