"""What a chaos run plays: the project's seeded random scenarios (seed 1, 2, ...) until they
hold the campaigns asked for, in waves of scenarios played side by side, bar by bar.

A scenario's symbols are renamed ``<SYMBOL>.<seed>`` (``AAPL.7``) so that scenarios of one
wave never share a symbol's price stream (each stream must move forward in time), and its
ranges' and signals' ids are derived from the seed and their keys, so both runs send the same
ids and every campaign id (symbol and range start date) is the same in both."""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid5

from campaign_engine.domain.market import EntrySignal, PriceUpdate
from campaign_engine.scenarios import Scenario
from campaign_engine.scenarios.random_scenarios import random_scenario

IDS = UUID("5b0e7c1a-9d44-4c2e-8f61-3a7d2e9c0b18")


@dataclass(frozen=True, slots=True)
class Decide:
    """Signals sent together: one alone (POST /signals) or a batch (/signals/batch)."""

    signals: tuple[EntrySignal, ...]


@dataclass(frozen=True, slots=True)
class Prices:
    """One bar of every symbol of a wave, in one POST /prices."""

    updates: tuple[PriceUpdate, ...]

    def at(self, symbol: str) -> datetime | None:
        return next((u.as_of for u in self.updates if u.symbol == symbol), None)


Step = Decide | Prices


@dataclass
class Play:
    waves: list[list[Step]] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    ranges: int = 0  # one campaign each, unless every signal of it is refused
    labels: dict[UUID, str] = field(default_factory=dict)  # signal id -> seed:key

    @property
    def steps(self) -> int:
        return sum(len(w) for w in self.waves)


def _renamed(scenario: Scenario, seed: int) -> dict[str, str]:
    return {s: f"{s}.{seed}" for s in scenario.symbols}


def _seed_steps(seed: int, labels: dict[UUID, str]) -> tuple[int, dict[int, list[Step]]]:
    """The scenario of ``seed``: its range count, and by bar index the steps before it (its
    decisions) and its bar (a Prices of one symbol set, merged into the wave's later)."""
    scenario = random_scenario(seed)
    names = _renamed(scenario, seed)
    ranges = {
        r.key: r.trading_range(uuid5(IDS, f"{seed}:range:{r.key}")).model_copy(
            update={"symbol": names[r.symbol]}
        )
        for r in scenario.ranges
    }
    by_bar: dict[int, list[Step]] = {}
    for index, steps in scenario.steps().items():
        at = scenario.decision_time(index)
        for step in steps:
            signals = []
            for s in step.signals:
                signal_id = uuid5(IDS, f"{seed}:signal:{s.id}")
                labels[signal_id] = f"{seed}:{s.id}"
                signals.append(s.entry_signal(ranges[s.range], signal_id, at))
            by_bar.setdefault(index, []).append(Decide(tuple(signals)))
    for index, bar in enumerate(scenario.bars):
        updates = tuple(u.model_copy(update={"symbol": names[u.symbol]}) for u in bar)
        by_bar.setdefault(index, []).append(Prices(updates))
    return len(scenario.ranges), by_bar


def build_play(campaigns: int, wave_size: int) -> Play:
    """Seeds 1, 2, ... until their ranges number ``campaigns``, in waves of about
    ``wave_size`` ranges."""
    play = Play()
    wave: list[dict[int, list[Step]]] = []
    in_wave = 0
    seed = 0
    while play.ranges < campaigns:
        seed += 1
        count, by_bar = _seed_steps(seed, play.labels)
        play.seeds.append(seed)
        play.ranges += count
        wave.append(by_bar)
        in_wave += count
        if in_wave >= wave_size or play.ranges >= campaigns:
            play.waves.append(_merge(wave))
            wave, in_wave = [], 0
    return play


def _merge(wave: list[dict[int, list[Step]]]) -> list[Step]:
    """Bar by bar: every scenario's decisions before the bar (in seed order), then one POST
    with every scenario's bar."""
    steps: list[Step] = []
    for index in sorted({i for by_bar in wave for i in by_bar}):
        bars: list[PriceUpdate] = []
        for by_bar in wave:
            for step in by_bar.get(index, []):
                if isinstance(step, Decide):
                    steps.append(step)
                else:
                    bars.extend(step.updates)
        steps.append(Prices(tuple(bars)))
    return steps
