"""Scenarios: trading ranges, entry signals sent at given bars, the prices they are played
against, and what must come of each campaign.

A scenario is a folder with ``scenario.json`` and the ``prices.csv`` it names (columns
``bar,symbol,as_of,open,high,low,close``, one row per symbol and bar). The packaged demo is
``campaign_engine/scenarios/demo``; copy it (``export_demo``) and edit it. A file that does not
describe a playable scenario is refused with every problem found, each naming where it is.

``model`` holds what a scenario is, ``document`` reads ``scenario.json``, ``prices`` reads the
price file, ``files`` finds both and puts the scenario together; every name is importable from
here.
"""

from campaign_engine.scenario.document import parse_document
from campaign_engine.scenario.files import (
    SCENARIO_FILE,
    build_scenario,
    export_demo,
    load_scenario,
    packaged_demo,
    scenario_from_text,
)
from campaign_engine.scenario.model import (
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
from campaign_engine.scenario.prices import PRICE_COLUMNS, parse_prices

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
