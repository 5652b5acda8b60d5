"""pydantic's validation errors said one way wherever input is refused: the REST API (as JSON),
the CLI's files, the settings from the environment and the scenario files (as lines of text).

What only pydantic needs is dropped: the "Value error, " prefix its validators' messages get,
tags that only pick a union's branch, context objects and whole objects echoed back. What is
echoed is short and JSON can carry it: a refused value is quoted by a prefix of at most
``QUOTED`` characters (a 20 MB string is not sent back), a number JSON has no word for (NaN,
infinity, as Python's json reads ``NaN`` or ``1e400``) by its name."""

import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

_VALUE_ERROR = "Value error, "
QUOTED = 64  # characters of a refused value (or a field name) an error quotes
MESSAGE = 300  # characters of a message (a validator's message may quote its input)
_ELLIPSIS = "…"


def quoted(text: str, limit: int = QUOTED) -> str:
    """``text``, or its first ``limit`` characters and an ellipsis."""
    return text if len(text) <= limit else text[:limit] + _ELLIPSIS


def _echo(value: object) -> tuple[str | int | float | bool, int | None] | None:
    """What an error quotes of a refused scalar, and its length when that is cut; None for
    what it does not quote (objects, arrays)."""
    if isinstance(value, bool):
        return value, None
    if isinstance(value, float) and not math.isfinite(value):
        return ("NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"), None
    if isinstance(value, int | float):
        text = repr(value)
        return (value, None) if len(text) <= QUOTED else (quoted(text), len(text))
    if isinstance(value, str):
        return (value, None) if len(value) <= QUOTED else (quoted(value), len(value))
    return None


def error_message(error: Mapping[str, Any]) -> str:
    """The message, as a person should read it."""
    return quoted(str(error.get("msg", "invalid value")).removeprefix(_VALUE_ERROR), MESSAGE)


def error_location(
    loc: Iterable[int | str], hidden: Collection[str] = frozenset()
) -> list[int | str]:
    """The location's parts without the ``hidden`` ones (branch tags); a name taken from the
    input (an unknown field's) is quoted short."""
    return [part if isinstance(part, int) else quoted(part) for part in loc if part not in hidden]


def location_text(loc: Iterable[int | str], *, whole: str = "(input)") -> str:
    """``signals[0].entry_price``; ``whole`` when the error is about the whole input."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or whole


def readable_errors(
    errors: Iterable[Mapping[str, Any]], hidden: Collection[str] = frozenset()
) -> list[dict[str, Any]]:
    """Errors as JSON: ``loc`` (a list), ``msg``, ``type``, and ``input`` when it is a scalar
    (with ``input_length``, its length in characters, when it is quoted in part)."""
    readable = []
    for error in errors:
        item: dict[str, Any] = {
            "loc": error_location(error.get("loc", ()), hidden),
            "msg": error_message(error),
            "type": str(error.get("type", "value_error")),
        }
        echoed = _echo(error.get("input"))
        if echoed is not None:
            item["input"], length = echoed
            if length is not None:
                item["input_length"] = length
        readable.append(item)
    return readable


def problem_lines(
    error: ValidationError,
    *,
    prefix: str = "",
    whole: str = "(input)",
    names: Mapping[str, str] | None = None,
) -> list[str]:
    """One line a problem, ``{prefix}{where}: {message}``. ``names`` renames the fields
    of the top level (a setting's field to the variable it is read from)."""
    lines = []
    for e in error.errors():
        loc = error_location(e["loc"])
        if names and loc and isinstance(loc[0], str):
            loc[0] = names.get(loc[0], loc[0])
        lines.append(f"{prefix}{location_text(loc, whole=whole)}: {error_message(e)}")
    return lines
