"""Checks of the engine's own for the fuzzing in test_api_fuzz.py, loaded by schemathesis as
hooks (``hooks`` in schemathesis.toml)."""

import json
from typing import Any

import schemathesis
from schemathesis import CheckContext, Response

# Answers whose body is empty by definition: a check of its content would be wrong.
_BODILESS = {204, 304}


def _problem(body: Any) -> str | None:
    """Why ``body`` does not name a problem, or None when it does."""
    if not isinstance(body, dict) or "detail" not in body:
        return f"the body is not an object with a detail: {body!r:.200}"
    detail = body["detail"]
    if isinstance(detail, str):
        return None if detail.strip() else "the detail is empty"
    if isinstance(detail, list) and detail:
        if all(isinstance(e, dict) and str(e.get("msg", "")).strip() for e in detail):
            return None
        return f"a field error without a message: {detail!r:.200}"
    return f"the detail names nothing: {detail!r:.200}"


@schemathesis.check
def refusal_names_the_problem(
    ctx: CheckContext, response: Response, case: "schemathesis.Case[Any]"
) -> bool | None:
    """Every refusal is a 4xx whose JSON body names the problem."""
    if not 400 <= response.status_code < 500 or response.status_code in _BODILESS:
        return None
    if response.request.method == "HEAD":  # answered without a body, whatever the status
        return None
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        raise AssertionError(
            f"{response.status_code} without a JSON body: {response.content[:200]!r}"
        ) from None
    problem = _problem(body)
    if problem is not None:
        raise AssertionError(f"{response.status_code}: {problem}")
    return True
