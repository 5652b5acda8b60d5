"""The folders are the architecture: each package of ``campaign_engine`` imports only the
packages below it, as the table says, so a file's folder tells what it may reach. Read from
the source (every ``import``, also those inside functions), not from what happens to load."""

import ast
from pathlib import Path

import pytest

_PACKAGE = Path(__file__).resolve().parents[2] / "src" / "campaign_engine"

# What each package may import besides itself. The order is the layering, lowest first.
ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "formats": frozenset({"domain"}),
    "runtime": frozenset({"domain", "formats"}),
    "temporal": frozenset({"domain", "runtime"}),
    "db": frozenset({"domain", "formats", "runtime", "temporal"}),
    "brokers": frozenset({"domain", "runtime", "temporal", "db"}),
    "scenarios": frozenset({"domain", "formats"}),
    "backtest": frozenset({"domain", "formats", "scenarios"}),
    "price_feed": frozenset({"domain", "runtime", "db"}),
    # Prices from a vendor into the intake: beside the delivering process's publisher.
    "market_data": frozenset({"domain", "runtime", "db"}),
    "workflows": frozenset({"domain", "formats", "runtime", "temporal"}),
    "activities": frozenset({"domain", "runtime", "temporal", "db", "brokers"}),
    "services": frozenset({"domain", "formats", "runtime", "temporal", "db", "brokers"}),
    "client": frozenset({"domain", "runtime", "temporal", "price_feed", "workflows"}),
    "api": frozenset(
        {
            "domain",
            "formats",
            "runtime",
            "temporal",
            "db",
            "brokers",
            "price_feed",
            "market_data",
            "client",
        }
    ),
    "worker": frozenset(
        {"domain", "runtime", "temporal", "db", "brokers", "workflows", "activities", "services"}
    ),
    "stack": frozenset(
        {"runtime", "temporal", "db", "api", "scenarios", "workflows", "worker", "client"}
    ),
    # What tests and benches build on: builders over the domain, a stand-in for Alpaca's wire,
    # and a book written into the read model as the workflows' saves write it.
    "testing": frozenset({"domain", "brokers", "db", "temporal"}),
    "cli": frozenset(
        {
            "domain",
            "formats",
            "runtime",
            "temporal",
            "db",
            "price_feed",
            "market_data",
            "client",
            "api",
            "scenarios",
            "backtest",
            "stack",
            "worker",
        }
    ),
}

# Arrows against the layering, each for a reason, each to one module.
EXCEPTIONS: dict[tuple[str, str], str] = {
    # The settings read every part's configuration from the environment in one place; the
    # brokers' configuration models depend on nothing of the brokers (checked below).
    ("runtime.settings", "brokers.alpaca.config"): "broker configuration",
    ("runtime.settings", "brokers.sim.config"): "broker configuration",
    ("runtime.settings", "market_data.alpaca_config"): "market data configuration",
    # A client starts a workflow with its search attributes: names and values, no workflow code.
    ("client.campaign_client", "workflows.details"): "search attributes",
    ("stack.temporal_server", "workflows.details"): "search attributes",
}


def _imports(path: Path) -> set[str]:
    """Every ``campaign_engine`` module ``path`` imports, without the ``campaign_engine.``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {
            n.removeprefix("campaign_engine.") for n in names if n.startswith("campaign_engine.")
        }
    return found


def _arrows() -> list[tuple[str, str]]:
    """Every (importing module, imported module), the linked ``workflows/``, ``activities/``
    and ``worker.py`` included (``rglob`` does not follow the links, ``resolve`` does)."""
    arrows: list[tuple[str, str]] = []
    for entry in sorted(_PACKAGE.iterdir()):
        if entry.is_dir() and (entry / "__init__.py").exists():
            for path in sorted(entry.resolve().rglob("*.py")):
                if "migrations" in path.parts:
                    continue
                inside = path.relative_to(entry.resolve()).with_suffix("")
                parts = inside.parts[:-1] if inside.name == "__init__" else inside.parts
                source = ".".join((entry.name, *parts))
                arrows += [(source, target) for target in _imports(path)]
        elif entry.suffix == ".py" and entry.name != "__init__.py":
            arrows += [(entry.stem, target) for target in _imports(entry)]
    return arrows


def _wrong_way(arrows: list[tuple[str, str]]) -> list[str]:
    wrong = []
    for source, target in arrows:
        source_package, target_package = source.split(".")[0], target.split(".")[0]
        if source_package == target_package or (source, target) in EXCEPTIONS:
            continue
        if target_package not in ALLOWED.get(source_package, frozenset()):
            wrong.append(f"{source} -> {target}")
    return sorted(wrong)


def test_no_module_lies_loose_beside_the_packages() -> None:
    loose = {p.name for p in _PACKAGE.glob("*.py")} - {"__init__.py", "worker.py"}
    assert not loose, loose


def test_every_package_is_in_the_table_and_says_what_it_may_do() -> None:
    packages = {p.name for p in _PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages | {"worker"} == set(ALLOWED)
    for package in packages:
        docstring = ast.get_docstring(ast.parse((_PACKAGE / package / "__init__.py").read_text()))
        assert docstring, f"{package}/__init__.py has no docstring"


def test_every_import_goes_the_way_the_table_says() -> None:
    assert _wrong_way(_arrows()) == []


def test_each_exception_is_still_needed() -> None:
    arrows = set(_arrows())
    assert set(EXCEPTIONS) <= arrows, set(EXCEPTIONS) - arrows


@pytest.mark.parametrize("config", ["brokers/alpaca/config.py", "brokers/sim/config.py"])
def test_the_broker_configurations_the_settings_read_depend_on_nothing_of_the_brokers(
    config: str,
) -> None:
    assert {m.split(".")[0] for m in _imports(_PACKAGE / config)} <= {"domain"}


def test_a_wrong_way_import_is_caught() -> None:
    assert _wrong_way([("domain.sizing", "db.repository")]) == ["domain.sizing -> db.repository"]
    assert _wrong_way([("db.repository", "domain.sizing")]) == []


def test_nothing_in_the_running_system_imports_the_testing_package() -> None:
    outside = [(s, t) for s, t in _arrows() if not s.startswith("testing")]
    assert not [(s, t) for s, t in outside if t.startswith("testing")]
