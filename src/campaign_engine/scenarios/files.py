"""Finding and putting together a scenario: the packaged demo, a folder or its
``scenario.json`` with the price file it names, a copy of the demo to edit, and a scenario from
the two files' contents."""

import shutil
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from campaign_engine.domain.market import PriceUpdate
from campaign_engine.scenarios.document import parse_document
from campaign_engine.scenarios.model import Scenario, ScenarioError, ScenarioFile, refuse
from campaign_engine.scenarios.price_csv import parse_prices

SCENARIO_FILE = "scenario.json"


def packaged_demo() -> Traversable:
    """The demo scenario's folder inside the installed package."""
    return files("campaign_engine.scenarios").joinpath("demo")


def load_scenario(source: Path | None = None) -> Scenario:
    """A scenario from a folder holding ``scenario.json``, or from the JSON file itself;
    None means the packaged demo."""
    folder: Path | Traversable
    if source is None:
        folder = packaged_demo()
        document = folder.joinpath(SCENARIO_FILE)
    elif source.is_dir():
        folder, document = source, source / SCENARIO_FILE
    else:
        folder, document = source.parent, source
    origin = str(document)
    if not document.is_file():
        raise ScenarioError(f"{origin}: no such scenario file")
    spec = parse_document(document.read_text(encoding="utf-8"), origin)
    prices = folder.joinpath(spec.prices)
    if not prices.is_file():
        raise ScenarioError(f"{origin}: its price file {spec.prices!r} is not at {prices}")
    bars = parse_prices(prices.read_text(encoding="utf-8"), str(prices), spec.ranges)
    return build_scenario(spec, bars, origin)


def export_demo(destination: Path) -> Path:
    """Copy the packaged demo into ``destination`` (a new or empty folder) to edit it."""
    if destination.exists() and any(destination.iterdir()):
        raise ScenarioError(f"{destination} is not empty; choose a new folder")
    destination.mkdir(parents=True, exist_ok=True)
    demo = packaged_demo()
    for name in (SCENARIO_FILE, ScenarioFile.model_fields["prices"].default):
        with demo.joinpath(name).open("rb") as src, (destination / name).open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return destination


def build_scenario(
    spec: ScenarioFile, bars: tuple[tuple[PriceUpdate, ...], ...], origin: str
) -> Scenario:
    """The scenario of a checked file and its bars; every signal must go before a bar."""
    late = [
        f"signals ({s.id}): bar {s.bar} is past the last bar {len(bars) - 1}"
        for s in spec.signals
        if s.bar >= len(bars)
    ]
    if late:
        raise refuse(origin, late)
    return Scenario(
        name=spec.name,
        description=spec.description,
        ranges=spec.ranges,
        signals=spec.signals,
        bars=bars,
        source=origin,
    )


def scenario_from_text(document: str, prices: str, origin: str = "scenario") -> Scenario:
    """A scenario from the two files' contents (for tests and tools)."""
    spec = parse_document(document, origin)
    return build_scenario(spec, parse_prices(prices, f"{origin} prices", spec.ranges), origin)
