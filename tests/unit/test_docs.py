"""Every environment variable, ``campaigns`` command (and option) and REST path that the README
and the pages under ``docs/`` name exists in the code (how a name is recognised in the docs:
``tests/support/doc_names.py``). A failure lists each name the code does not have, with the
page that names it."""

from collections.abc import Callable
from functools import cache

import pytest

from tests.support.doc_names import (
    ROOT,
    Api,
    Named,
    cli_options,
    commands,
    doc_files,
    env_names,
    file_paths,
    paths,
    read_env_names,
    tracked_files,
)

Docs = tuple[tuple[str, str], ...]  # (where, text) of each page


@cache
def _docs() -> Docs:
    return tuple((str(p.relative_to(ROOT)), p.read_text()) for p in doc_files())


@cache
def _code_env() -> frozenset[str]:
    return frozenset(read_env_names())


@cache
def _api() -> Api:
    return Api()


def _prefixes() -> set[str]:
    return {name.split("_")[0] for name in _code_env() if "_" in name}


def env_problems(docs: Docs) -> list[str]:
    named = {n for doc, text in docs for n in env_names(doc, text, _prefixes())}
    return sorted(f"{n.doc}: {n.name}" for n in named if n.name not in _code_env())


def command_problems(docs: Docs) -> list[str]:
    options = cli_options()
    problems: set[str] = set()
    for doc, text in docs:
        for command, flags in commands(doc, text):
            if command.name not in options:
                problems.add(f"{doc}: campaigns {command.name}: no such command")
                continue
            problems |= {
                f"{doc}: campaigns {command.name} {flag}: no such option"
                for flag in flags
                if flag not in options[command.name]
            }
    return sorted(problems)


def path_problems(docs: Docs) -> list[str]:
    api = _api()
    named = {n for doc, text in docs for n in paths(doc, text)}
    return sorted(f"{n.doc}: {problem}" for n in named if (problem := api.problem(n)) is not None)


def file_problems(docs: Docs) -> list[str]:
    files = tracked_files()
    named = {n for doc, text in docs for n in file_paths(doc, text)}
    return sorted(f"{n.doc}: {n.name}: no such file" for n in named if n.name not in files)


def _listed(problems: list[str]) -> str:
    return "the docs name what the code does not have:\n  " + "\n  ".join(problems)


def test_every_environment_variable_the_docs_name_is_read_by_the_code() -> None:
    problems = env_problems(_docs())
    assert not problems, _listed(problems)


def test_every_campaigns_command_and_option_the_docs_name_exists() -> None:
    problems = command_problems(_docs())
    assert not problems, _listed(problems)


def test_every_rest_path_the_docs_name_is_served_by_the_api() -> None:
    problems = path_problems(_docs())
    assert not problems, _listed(problems)


def test_every_file_the_docs_name_by_its_path_exists() -> None:
    problems = file_problems(_docs())
    assert not problems, _listed(problems)


def test_the_docs_are_read_for_names_at_all() -> None:
    """The checks above pass vacuously if nothing is recognised: the docs' best-known names
    must be found."""
    docs = _docs()
    found_env = {n.name for doc, text in docs for n in env_names(doc, text, _prefixes())}
    found_commands = {c.name for doc, text in docs for c, _ in commands(doc, text)}
    found_paths = {(n.method, n.name) for doc, text in docs for n in paths(doc, text)}
    assert {"DATABASE_URL", "BROKER", "SIM_SEED", "CAMPAIGNS_POLICY"} <= found_env
    assert {"dev", "backtest", "trading-state"} <= found_commands
    assert {("POST", "/signals"), ("PATCH", "/campaigns/{id}"), (None, "/api/v1/ws")} <= found_paths
    found_files = {n.name for doc, text in docs for n in file_paths(doc, text)}
    assert {"bench/record.py", "domain/risk.py", "tests/e2e/test_parity.py"} <= found_files


FAKE_DOC = """
| variable | default | meaning |
|---|---|---|
| `CAMPAIGNS_NO_SUCH_SETTING` | `1` | a setting nobody reads |

Run `NO_SUCH_VARIABLE=1 campaigns worker`, then `campaigns no-such-command` and
`campaigns list --no-such-option`; `SIM_NO_SUCH_RATE` is mentioned in passing.

| endpoint | answers |
|---|---|
| `GET /no-such-path` | nothing |
| `PATCH /portfolio` | the wrong method |
| `GET /campaigns?no_such_filter=1` | a query parameter nobody reads |

Measured by `bench/no_such_bench.py`.
"""


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        (
            env_problems,
            [
                "fake.md: CAMPAIGNS_NO_SUCH_SETTING",
                "fake.md: NO_SUCH_VARIABLE",
                "fake.md: SIM_NO_SUCH_RATE",
            ],
        ),
        (
            command_problems,
            [
                "fake.md: campaigns list --no-such-option: no such option",
                "fake.md: campaigns no-such-command: no such command",
            ],
        ),
        (
            path_problems,
            [
                "fake.md: /campaigns: no query parameter no_such_filter",
                "fake.md: /no-such-path: no such path",
                "fake.md: PATCH /portfolio: the path does not take PATCH",
            ],
        ),
        (file_problems, ["fake.md: bench/no_such_bench.py: no such file"]),
    ],
)
def test_a_name_the_code_does_not_have_is_listed(
    check: Callable[[Docs], list[str]], expected: list[str]
) -> None:
    assert check((("fake.md", FAKE_DOC),)) == expected


def test_names_the_code_has_are_not_listed() -> None:
    real = (
        "`DATABASE_URL=postgresql://x campaigns list --status ACTIVE` and `GET /portfolio`, "
        "`db/holdings.py` and `bench/stack/price_latency_bench.py`"
    )
    docs = (("real.md", real),)
    assert env_problems(docs) == command_problems(docs) == path_problems(docs) == []
    assert file_problems(docs) == []
    assert [Named("real.md", "/portfolio", "GET")] == list(paths("real.md", real))
