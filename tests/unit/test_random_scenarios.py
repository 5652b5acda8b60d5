"""The seeded scenario generator: the same seed writes the same files, each scenario is a valid
one in the demo's format whose campaigns end as it expects through the backtest, and the 20
seeds of the parity test hold every feature parity must cover between them."""

from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from campaign_engine.backtest.engine import BacktestRun, run_backtest
from campaign_engine.backtest.parity import backtest_outcome, outcome_diff
from campaign_engine.backtest.sources import scenario_timeline
from campaign_engine.domain.vocabulary import LONG_SEQUENCE, OrderPurpose
from campaign_engine.scenarios import Scenario, load_scenario
from campaign_engine.scenarios.random_scenarios import generate_scenario, main, random_scenario

SEEDS = range(1, 21)


@pytest.fixture(scope="module")
def played() -> dict[int, tuple[Scenario, BacktestRun]]:
    runs = {}
    for seed in SEEDS:
        scenario = random_scenario(seed)
        runs[seed] = scenario, run_backtest(scenario_timeline(scenario))
    return runs


def test_a_seed_always_gives_the_same_files() -> None:
    assert generate_scenario(7) == generate_scenario(7)
    assert generate_scenario(7) != generate_scenario(8)


def test_the_files_load_as_a_scenario_folder(tmp_path: Path) -> None:
    assert main(["5", str(tmp_path / "five")]) == 0
    loaded = load_scenario(tmp_path / "five")
    made = random_scenario(5)
    assert (loaded.ranges, loaded.signals, loaded.bars) == (made.ranges, made.signals, made.bars)


def test_each_campaign_ends_as_its_scenario_expects(
    played: dict[int, tuple[Scenario, BacktestRun]],
) -> None:
    for seed, (scenario, run) in played.items():
        by_id = {s.campaign_id: s for s in run.campaigns}
        for r in scenario.ranges:
            state = by_id.get(r.campaign_id())
            got = (
                (state.status.value, tuple(p for p in LONG_SEQUENCE if state.position_for(p)))
                if state
                else ("NOT_CREATED", ())
            )
            assert got == (r.expect.status.value, r.expect.entries), f"seed {seed} {r.story}"


def test_the_seeds_cover_what_parity_must(
    played: dict[int, tuple[Scenario, BacktestRun]],
) -> None:
    statuses: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    patterns: set[str] = set()
    stop_outs = heat_scenarios = 0
    dates = set()
    ids: list[str] = []
    for scenario, run in played.values():
        assert 2 <= len(scenario.symbols) <= 4
        assert 30 <= len(scenario.bars) <= 60
        dates.add(scenario.bars[0][0].as_of.year)
        ids += [s.campaign_id for s in run.campaigns]
        statuses.update(s.status.value for s in run.campaigns)
        codes = [p.rejection_code.value for p in run.plans if p.rejection_code]
        refusals.update(codes)
        heat_scenarios += "PORTFOLIO_HEAT" in codes
        patterns.update(p.pattern.value for p in run.plans if p.approved)
        for state in run.campaigns:  # out at the initial stop, at a loss
            stops = [p for p in state.positions if p.stop == p.initial_stop]
            exits = [o.order for o in state.orders if o.order.purpose is OrderPurpose.STOP]
            if stops and exits and state.realized_pnl < 0:
                stop_outs += 1
    assert statuses["INVALIDATED"] >= 3 and statuses["COMPLETED"] >= 30, statuses
    assert stop_outs >= 5, stop_outs
    assert heat_scenarios >= 5 and refusals["PORTFOLIO_HEAT"] >= 10, refusals
    assert len(refusals) >= 3, refusals  # other refusals come along too
    assert patterns == {"SPRING", "SOS", "LPS"}
    assert dates >= {2019, 2020, 2021, 2022}
    assert len(ids) == len(set(ids)), "a campaign id repeats across scenarios"


def test_the_backtest_outcome_compares_with_itself_and_tells_a_difference(
    played: dict[int, tuple[Scenario, BacktestRun]],
) -> None:
    scenario, run = played[3]
    labels = scenario_timeline(scenario).labels
    outcome = backtest_outcome(run, labels)
    assert outcome_diff(outcome, outcome) == []
    assert outcome.fills and outcome.decisions and outcome.campaigns
    key = sorted(outcome.campaigns)[0]
    ended = outcome.campaigns[key]
    pnl = ended.realized_pnl or Decimal(0)
    other = replace(
        outcome,
        campaigns={**outcome.campaigns, key: replace(ended, realized_pnl=pnl + 1)},
        fills={},
    )
    differences = outcome_diff(outcome, other)
    assert f"campaign {key}: realized_pnl {pnl:f} != {pnl + 1:f}" in differences
    assert len(differences) == 1 + len(outcome.fills)
    assert all("only in the backtest" in d for d in differences if d.startswith("fill "))
