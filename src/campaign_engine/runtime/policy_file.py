"""The policy (SPEC section 2) from a TOML file: every setting of ``Policy`` by its name, at the
top level or in a table for the maps (``[bmad_weights]``, ``[correlation_groups]``...).
Numbers are read exactly (``0.40`` is ``Decimal("0.40")``, never a float); a setting left out
keeps its default. A file that is not a valid policy is a ``PolicyFileError`` whose message is
one line naming what is wrong, by key."""

import difflib
import tomllib
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError

from campaign_engine.domain.policy import Policy
from campaign_engine.formats.validation_errors import problem_lines

NOT_SUPPORTED: dict[str, str] = {}
"""Settings of SPEC section 2 the engine does not implement yet: refused, not ignored."""


class PolicyFileError(ValueError):
    """The file is missing, unreadable, not TOML or not a valid policy."""


def policy_from_toml(text: str) -> Policy:
    """The policy a TOML text describes (its numbers exact)."""
    try:
        values = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise PolicyFileError(f"not TOML: {error}") from None
    unknown = [_unknown(key) for key in values if key not in Policy.model_fields]
    if unknown:
        raise PolicyFileError("; ".join(unknown))
    try:
        return Policy.model_validate(values)
    except ValidationError as error:
        raise PolicyFileError("; ".join(problem_lines(error))) from None


def read_policy(path: Path) -> Policy:
    """The policy in the TOML file at ``path``; a ``PolicyFileError`` names the file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise PolicyFileError(f"{path}: cannot read it: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise PolicyFileError(f"{path}: not TOML: the file is not UTF-8 text") from None
    try:
        return policy_from_toml(text)
    except PolicyFileError as error:
        raise PolicyFileError(f"{path}: {error}") from None


def _unknown(key: str) -> str:
    if key in NOT_SUPPORTED:
        return f"{key}: {NOT_SUPPORTED[key]}"
    close = difflib.get_close_matches(key, list(Policy.model_fields), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{key}: not a policy setting{hint}"
