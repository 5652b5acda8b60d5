"""The names the documentation gives to things in the code, and the code's own lists of them.

The docs (the README and every page under ``docs/``) name three kinds of things a reader may
type: environment variables, ``campaigns`` commands with their options, and REST paths. Each is
read from the Markdown as a reader would copy it, from code (inline spans and fenced blocks):

- an environment variable is an upper-case name in the first column of a table headed
  ``variable``, a name assigned in code (``BROKER=sim``, ``export ALPACA_PAPER``), or an
  upper-case name alone in an inline span whose first word is one the code's variables use
  (``CAMPAIGNS_``, ``SIM_``, ``ALPACA_``...);
- a command is ``campaigns <name>`` in code, and an option a ``--flag`` in the same span (a
  fenced line's ``# comment`` is left out);
- a REST path is one after an HTTP method (``PATCH /campaigns/{id}``, relative to ``/api/v1``
  unless it exists at the root), one under ``/api/v1/``, or one on the API's default address
  (``127.0.0.1:8000``, ``localhost:8000``), with the query parameters it names. Alpaca's paths
  (``/v2/...``), which the broker's page quotes, are not the engine's.

What the code has is read from the code itself: the variables ``load_settings`` reads and every
``os.environ``/``getenv`` lookup in the tree, the typer app's commands and their parameters, and
the FastAPI app's routes with their methods and query parameters.
"""

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import typer
from starlette.routing import Match

ROOT = Path(__file__).resolve().parents[2]
API_PREFIX = "/api/v1"
FOREIGN_PATHS = ("/v2/",)  # Alpaca's REST API, quoted by docs/brokers.md
_ENV_NAME = r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z][A-Z0-9]{2,}"
_METHODS = "GET|POST|PUT|PATCH|DELETE|OPTIONS|HEAD"
_PATH = r"/[A-Za-z0-9_{}<>./:-]*(?:\?[A-Za-z0-9_=&<>.{}-]*)?"


@dataclass(frozen=True)
class Named:
    """One name a doc gives: what it is, where it is, and (for paths) its method and query."""

    doc: str
    name: str
    method: str | None = None
    query: tuple[str, ...] = ()


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def code_spans(text: str) -> list[str]:
    """Every fenced block's lines (comments cut) and every inline span, whitespace made one."""
    spans: list[str] = []
    fences = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
    for block in fences.finditer(text):
        spans += [line.split(" #")[0].strip() for line in block.group(1).splitlines()]
    for inline in re.finditer(r"`([^`]+)`", fences.sub("", text)):
        spans.append(" ".join(inline.group(1).split()))
    return spans


def variable_table_names(text: str) -> Iterator[str]:
    """The names in the first column of each table whose first heading is ``variable``."""
    in_table = False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if "|" in line else []
        if not cells:
            in_table = False
        elif cells[0] == "variable":
            in_table = True
        elif in_table:
            yield from re.findall(rf"`({_ENV_NAME})`", cells[0])


def env_names(doc: str, text: str, prefixes: set[str]) -> Iterator[Named]:
    for name in variable_table_names(text):
        yield Named(doc, name)
    for span in code_spans(text):
        for name in re.findall(rf"(?:^|[\s(])(?:export\s+)?({_ENV_NAME})=", span):
            yield Named(doc, name)
        for name in re.findall(rf"(?:^|\s)export\s+({_ENV_NAME})\b", span):
            yield Named(doc, name)
        if re.fullmatch(_ENV_NAME, span) and span.split("_")[0] in prefixes and "_" in span:
            yield Named(doc, span)


def commands(doc: str, text: str) -> Iterator[tuple[Named, list[str]]]:
    """Each ``campaigns <command>`` with the ``--options`` written after it in its span. A
    single-quoted argument is data, not a command line (a bench run's ``--notes '50 campaigns
    saved twice'``), and is left out."""
    for quoted in code_spans(text):
        span = re.sub(r"'[^']*'", "''", quoted)
        for found in re.finditer(r"(?:^|[\s(])campaigns ([a-z][a-z-]*)(.*)", span):
            rest = found.group(2).split(" campaigns ")[0]
            yield Named(doc, found.group(1)), re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest)


def paths(doc: str, text: str) -> Iterator[Named]:
    spans = code_spans(text) + re.findall(r"<(https?://[^>]+)>", text)
    for span in spans:
        found = [
            *((m.group(1), m.group(2)) for m in re.finditer(rf"\b({_METHODS}) ({_PATH})", span)),
            *(
                (None, m.group(1))
                for m in re.finditer(rf"(?<![\w/])({API_PREFIX}/{_PATH[1:]})", span)
            ),
            *(
                (None, m.group(1) or "/")
                for m in re.finditer(rf"(?:127\.0\.0\.1|localhost):8000({_PATH})?", span)
            ),
        ]
        for method, written in found:
            path, _, query = written.rstrip(".,;:").partition("?")
            if path.startswith(FOREIGN_PATHS):
                continue
            names = tuple(q.split("=")[0] for q in query.split("&") if q.split("=")[0])
            yield Named(doc, path, method, names)


def read_env_names() -> set[str]:
    """Every variable the code reads: the settings' and every ``environ``/``getenv`` lookup."""
    from campaign_engine.runtime import settings

    names = {*settings._ENV, *settings._SIM_ENV, settings.POLICY_FILE}
    trees = [ROOT / "src", ROOT / "tests", ROOT / "bench", ROOT / "workflows", ROOT / "activities"]
    files = [
        *(p for tree in trees for p in tree.rglob("*.py")),
        ROOT / "worker.py",
        ROOT / "run.py",
    ]
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(), str(file))):
            key = _environment_key(node)
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                names.add(key.value)
    return names


def _environment_key(node: ast.AST) -> ast.expr | None:
    """The key of ``environ[key]``, ``environ.get(key)`` or ``getenv(key)``; else None."""
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        return node.slice
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    getter = isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(func.value)
    return node.args[0] if getter or _name(func) == "getenv" else None


def _name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _is_environ(node: ast.expr) -> bool:
    return _name(node) == "environ"


def cli_options() -> dict[str, set[str]]:
    """Each command of the ``campaigns`` app and the options it takes."""
    from campaign_engine.cli import app

    group = typer.main.get_group(app)
    return {
        name: {"--help", *(opt for p in command.params for opt in (*p.opts, *p.secondary_opts))}
        for name, command in group.commands.items()
    }


class Api:
    """The API as a request meets it: its routes (matched as the server matches them, the
    dashboard, ``/docs`` and the WebSocket included) and the query parameters its OpenAPI
    document gives each operation (the WebSocket's are not checked: it has no operation)."""

    def __init__(self) -> None:
        from campaign_engine.api.app import create_app
        from campaign_engine.runtime.settings import load_settings

        app = create_app(load_settings({}))
        self.routes = app.router.routes
        self.query: dict[tuple[str, str], set[str]] = {
            (method.upper(), _template(path)): {
                q["name"] for q in operation.get("parameters", []) if q["in"] == "query"
            }
            for path, operations in app.openapi()["paths"].items()
            for method, operation in operations.items()
        }

    def match(self, path: str, method: str | None) -> Match:
        """FULL: served (with this method, when one is named); PARTIAL: served, not with this
        method; NONE: not served."""
        concrete = re.sub(r"\{[^}]*\}|<[^>]*>", "1", path)
        found = set()
        for kind, verb in (("http", method or "GET"), ("websocket", None)):
            scope = {"type": kind, "path": concrete, "method": verb, "root_path": ""}
            found |= {route.matches(scope)[0] for route in self.routes}
        if Match.FULL in found or (Match.PARTIAL in found and method is None):
            return Match.FULL
        return Match.PARTIAL if Match.PARTIAL in found else Match.NONE

    def problem(self, named: Named) -> str | None:
        """Why the API has no such path (method, query), or None when it has it."""
        for path in (API_PREFIX + named.name, named.name):
            found = self.match(path, named.method)
            if found is Match.FULL:
                key = (named.method or "GET", _template(path))
                unknown = [q for q in named.query if key in self.query and q not in self.query[key]]
                return f"{named.name}: no query parameter {', '.join(unknown)}" if unknown else None
            if found is Match.PARTIAL:
                return f"{named.method} {named.name}: the path does not take {named.method}"
        return f"{named.name}: no such path"


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}|<[^>]*>", "{}", path.rstrip("/") or "/")


_FILE_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)+[\w.-]+\.(?:py|md|toml|json|yml))\b")


def file_paths(doc: str, text: str) -> Iterator[Named]:
    """Every file a page names by its path in a code span (``bench/micro/db_bench.py``,
    ``docs/testing.md``): one with a folder, so that a bare name (``worker.py``) is prose, and
    not a placeholder's (``DIR/report.json``)."""
    for span in code_spans(text):
        for found in _FILE_PATH.finditer(span):
            path = found.group(1)
            if not path.startswith(("http", ".", "/")) and not path.split("/")[0].isupper():
                yield Named(doc, path)


def tracked_files() -> set[str]:
    """The repository's files, each as its path and as every tail of it below a folder
    (``src/campaign_engine/db/x.py`` is named ``db/x.py`` as well)."""
    names: set[str] = set()
    for path in ROOT.rglob("*"):
        if path.is_file() and not {".venv", ".git", "site", "node_modules"} & set(path.parts):
            parts = path.relative_to(ROOT).parts
            names |= {"/".join(parts[i:]) for i in range(len(parts) - 1)}
    return names
