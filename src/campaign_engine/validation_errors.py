"""pydantic's validation errors said one way wherever input is refused: the REST API (as JSON),
the CLI's files, the settings from the environment and the scenario files (as lines of text).

What only pydantic needs is dropped: the "Value error, " prefix its validators' messages get,
tags that only pick a union's branch, context objects and whole objects echoed back."""

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

_VALUE_ERROR = "Value error, "


def error_message(error: Mapping[str, Any]) -> str:
    """The message, as a person should read it."""
    return str(error.get("msg", "invalid value")).removeprefix(_VALUE_ERROR)


def error_location(
    loc: Iterable[int | str], hidden: Collection[str] = frozenset()
) -> list[int | str]:
    """The location's parts without the ``hidden`` ones (branch tags)."""
    return [part for part in loc if part not in hidden]


def location_text(loc: Iterable[int | str], *, whole: str = "(input)") -> str:
    """``signals[0].entry_price``; ``whole`` when the error is about the whole input."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or whole


def readable_errors(
    errors: Iterable[Mapping[str, Any]], hidden: Collection[str] = frozenset()
) -> list[dict[str, Any]]:
    """Errors as JSON: ``loc`` (a list), ``msg``, ``type``, and ``input`` when it is a scalar."""
    readable = []
    for error in errors:
        item: dict[str, Any] = {
            "loc": error_location(error.get("loc", ()), hidden),
            "msg": error_message(error),
            "type": str(error.get("type", "value_error")),
        }
        value = error.get("input")
        if isinstance(value, str | int | float | bool):
            item["input"] = value
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
        loc = list(e["loc"])
        if names and loc and isinstance(loc[0], str):
            loc[0] = names.get(loc[0], loc[0])
        lines.append(f"{prefix}{location_text(loc, whole=whole)}: {error_message(e)}")
    return lines
