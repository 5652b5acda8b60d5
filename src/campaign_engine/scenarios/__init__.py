"""Scenarios: trading ranges, entry signals sent at given bars, the prices they are played
against, and what must come of each campaign; the demo's data, and the player that plays a
scenario through a running stack's REST API.

A scenario is a folder with ``scenario.json`` and the ``prices.csv`` it names (columns
``bar,symbol,as_of,open,high,low,close``, one row per symbol and bar). The packaged demo is
``campaign_engine/scenarios/demo``; copy it (``export_demo``) and edit it. A file that does not
describe a playable scenario is refused with every problem found, each naming where it is.

``model`` holds what a scenario is, ``document`` reads ``scenario.json``, ``price_csv`` reads
the price file, ``files`` finds both and puts the scenario together (every name of these is
importable from here); ``generate`` rewrites the demo's prices from waypoints,
``random_scenarios`` makes seeded ones; ``play`` plays one through the stack (``player`` in
market time, ``play_dates`` the whole-day shift of its dates, ``stack_api`` its REST calls,
``play_table`` the table of what came of it). Reading files and talking HTTP to a stack: never
Temporal or the database directly.
"""

from campaign_engine.scenarios.document import parse_document
from campaign_engine.scenarios.files import (
    SCENARIO_FILE,
    build_scenario,
    export_demo,
    load_scenario,
    packaged_demo,
    scenario_from_text,
)
from campaign_engine.scenarios.model import (
    Expectation,
    ExpectedStatus,
    Key,
    Scenario,
    ScenarioError,
    ScenarioFile,
    ScenarioRange,
    ScenarioSignal,
    Step,
)
from campaign_engine.scenarios.price_csv import PRICE_COLUMNS, parse_prices

__all__ = [
    "PRICE_COLUMNS",
    "SCENARIO_FILE",
    "Expectation",
    "ExpectedStatus",
    "Key",
    "Scenario",
    "ScenarioError",
    "ScenarioFile",
    "ScenarioRange",
    "ScenarioSignal",
    "Step",
    "build_scenario",
    "export_demo",
    "load_scenario",
    "packaged_demo",
    "parse_document",
    "parse_prices",
    "scenario_from_text",
]
