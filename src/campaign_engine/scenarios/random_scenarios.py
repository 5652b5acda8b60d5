"""Seeded scenarios in the demo's format, small enough to play many through the live stack.

    python -m campaign_engine.scenarios.random_scenarios SEED FOLDER

Each seed gives one scenario: two to four symbols over ``BARS`` hourly bars on real, fixed
dates (seed 1 starts on 2019-01-02, each next seed 67 days later, so seed 20 plays in 2022),
one trading range per symbol dated a few days before the bars, so no two scenarios share a
campaign id. A symbol plays a *story*: entries (a whole Spring -> SOS -> LPS campaign, a
skipped Spring, a lone Spring, an LPS or an SOS as sole entry), then an ending (targets up to
t1, t2 or the whole ladder and back to the trailed stops, a stop-out, or a break of the spring
low), sometimes through a gap. Every third seed is a *heat* scenario: four symbols, and a batch
of four signals at one instant whose risk passes the portfolio's 10% heat, so the two scored
lowest are refused. Refused signals of other kinds (out of sequence, low confidence) come
along now and then.

Levels are drawn in units of the range's measured move M (jump - ice) above the ice, and the
noise is small next to the distances between them, so each range's ``expect`` (its final status
and the entries that filled) is what the story was written to do; a unit test plays every seed
through the backtest to hold the generator to that. The prices come from the demo's generator
(waypoints, seeded noise and wicks, gaps)."""

import json
import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

from campaign_engine.domain.market import TradingRange
from campaign_engine.domain.priority import PATTERN_PRIORITY, priority_score
from campaign_engine.scenarios import (
    Scenario,
    ScenarioRange,
    ScenarioSignal,
    scenario_from_text,
)
from campaign_engine.scenarios.generate import CENT, SymbolPath, csv_text, generate

BARS = 44
FIRST_BAR_AT = datetime(2019, 1, 2, 14, 0, tzinfo=UTC)
SEED_SPACING = timedelta(days=67)
HEAT_EVERY = 3  # seeds divisible by this are heat scenarios
SYMBOLS = (
    "AAPL", "MSFT", "NVDA", "TSLA", "META", "GOOG", "AMZN", "AMD",
    "NFLX", "ORCL", "INTC", "CRM", "ADBE", "QCOM", "CSCO", "IBM",
)  # fmt: skip
_IDS = UUID("6f0c8a5e-2b1d-4f3a-9c7e-8d5b4a3f2e1d")

D = Decimal
# Levels in measured moves above the ice.
SPRING_ENTRY, SPRING_STOP, SPRING_LOW, LONE_SPRING_STOP = (
    D("-0.20"),
    D("-0.40"),
    D("-0.30"),
    D("-0.45"),
)
SOS_ENTRY, SOS_STOP = D("0.05"), D("-0.25")
LPS_ENTRY, LPS_STOP = D("0.10"), D("-0.15")
# Where each ending takes the price: peaks below the next target, falls through the stops the
# ladder trailed to (breakeven after t1, t1 after t2), never through a Spring's invalidation.
LADDER_PEAK = {1: D("1.25"), 2: D("1.75"), 3: D("2.15")}
LADDER_FALL = {1: D("-0.12"), 2: D("0.80")}
STOP_FALL, BREAK_PEAK, BREAK_FALL = D("-0.55"), D("-0.10"), D("-0.60")


@dataclass
class Story:
    """One symbol's range, signals and price path while the scenario is put together."""

    symbol: str
    entries: str  # FULL, SKIP, SPRING, LPS, SOS
    ending: str  # LADDER1..3, STOP, BREAK
    ice: Decimal
    move: Decimal
    start: datetime
    spring_low: bool = False
    points: list[tuple[int, Decimal]] = field(default_factory=list)  # (bar, M above the ice)
    gaps: set[int] = field(default_factory=set)
    signals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.symbol.lower()

    def price(self, units: Decimal) -> Decimal:
        return (self.ice + units * self.move).quantize(CENT)

    def through(self, *points: tuple[int, str | Decimal]) -> None:
        for bar, units in points:
            self.at(bar, units)

    def at(self, bar: int, units: str | Decimal) -> None:
        if self.points and bar <= self.points[-1][0]:
            raise ValueError(f"{self.symbol}: waypoint {bar} is not after {self.points[-1][0]}")
        self.points.append((bar, D(units)))

    def signal(
        self,
        rng: random.Random,
        bar: int,
        pattern: str,
        entry: Decimal,
        stop: Decimal,
        *,
        confidence: int | None = None,
        batch: str | None = None,
        requested: str | None = None,
        targets: tuple[Decimal, ...] | None = None,
        tag: str = "",
    ) -> None:
        low = 76 if pattern == "LPS" else 71
        record: dict[str, Any] = {
            "id": f"{self.key}-{pattern.lower()}{tag}",
            "range": self.key,
            "bar": bar,
            "pattern": pattern,
            "entry_price": str(self.price(entry)),
            "stop_loss": str(self.price(stop)),
            "confidence": str(confidence if confidence is not None else rng.randint(low, 94)),
            "r_multiple": str(D(rng.randint(20, 45)) / 10),
        }
        if batch is not None:
            record["batch"] = batch
        if requested is not None:
            record["requested_risk_pct"] = requested
        if targets is not None:
            record["targets"] = [str(self.price(t)) for t in targets]
        self.signals.append(record)


def _entries(story: Story, rng: random.Random, first: int, heat: bool) -> int:
    """The story's entries from bar ``first``; returns the bar of its last entry."""
    s, r = story, rng
    if s.entries == "FULL":
        a, b = first, first + r.randint(5, 7)
        c = b + r.randint(4, 6)
        s.through((0, "-0.05"), (a, SPRING_ENTRY), (b, SOS_ENTRY))
        s.through(((b + c) // 2, "0.25"), (c, LPS_ENTRY))
        s.signal(r, a, "SPRING", SPRING_ENTRY, SPRING_STOP)
        s.signal(r, b, "SOS", SOS_ENTRY, SOS_STOP)
        s.signal(r, c, "LPS", LPS_ENTRY, LPS_STOP)
        return c
    if s.entries == "SKIP":
        a = first
        b = a + r.randint(5, 7)
        s.through((0, "-0.30"), (a, SOS_ENTRY), ((a + b) // 2, "0.25"), (b, LPS_ENTRY))
        s.signal(r, a, "SOS", SOS_ENTRY, SOS_STOP)
        s.signal(r, b, "LPS", LPS_ENTRY, LPS_STOP)
        return b
    if s.entries == "SPRING":
        s.spring_low = True
        s.through((0, "0.00"), (first, SPRING_ENTRY))
        s.signal(r, first, "SPRING", SPRING_ENTRY, LONE_SPRING_STOP)
        return first
    if s.entries == "LPS":
        s.through((0, "-0.10"), (first, LPS_ENTRY))
        s.signal(r, first, "LPS", LPS_ENTRY, LPS_STOP)
        return first
    s.through((0, "-0.30"), (first, SOS_ENTRY))
    s.signal(r, first, "SOS", SOS_ENTRY, SOS_STOP)
    if not heat and r.random() < 0.6:  # refused: a Spring after the SOS, or a weak LPS
        late = first + 2
        if r.random() < 0.5:
            s.signal(r, late, "SPRING", SPRING_ENTRY, SPRING_STOP, tag="-late")
        else:
            s.signal(r, late, "LPS", LPS_ENTRY, LPS_STOP, confidence=r.randint(55, 69))
        return late
    return first


def _ending(story: Story, rng: random.Random, ready: int) -> None:
    """The price after the last entry, then flat to the last bar."""
    s, gap = story, rng.random() < 0.4
    if s.ending == "BREAK":
        s.at(ready + 5, BREAK_PEAK)
        if gap:
            s.through((ready + 9, "-0.15"), (ready + 10, BREAK_FALL))
            s.gaps.add(ready + 10)
        else:
            s.at(ready + 12, BREAK_FALL)
    elif s.ending == "STOP":
        s.at(ready + 4, "0.30")
        if gap:
            s.through((ready + 8, "0.00"), (ready + 9, STOP_FALL))
            s.gaps.add(ready + 9)
        else:
            s.at(ready + 11, STOP_FALL)
    else:
        depth = int(s.ending[-1])
        s.at(ready + 5, "0.60")
        if depth == 3 and gap:  # through the last target at the open
            s.through((ready + 7, "1.30"), (ready + 8, "2.10"))
            s.gaps.add(ready + 8)
        else:
            s.at(ready + 10, LADDER_PEAK[depth])
        if depth < 3:
            s.at(ready + 16, LADDER_FALL[depth])
    s.at(BARS - 1, s.points[-1][1])


def _endings_for(entries: str) -> tuple[str, ...]:
    if entries in ("FULL",):
        return ("LADDER1", "LADDER2", "LADDER3")
    if entries == "SPRING":
        return ("BREAK", "BREAK", "LADDER3")
    return ("LADDER1", "LADDER2", "LADDER3", "STOP", "STOP")


def _new_story(rng: random.Random, symbol: str, entries: str, first_bar: datetime) -> Story:
    ice = D(rng.randint(2000, 60000)) / 100
    move = (ice * D(rng.randint(4, 9)) / 100).quantize(CENT)
    start = (first_bar - timedelta(days=rng.randint(3, 20))).replace(hour=14, minute=0)
    ending = rng.choice(_endings_for(entries))
    return Story(symbol, entries, ending, ice, move, start)


def _plain(rng: random.Random, seed: int, symbols: list[str], first_bar: datetime) -> list[Story]:
    kinds = ["FULL", "SKIP", "SPRING", "LPS", "SOS"]
    lead = kinds[seed % len(kinds)]  # every kind leads some seed
    stories = []
    for n, symbol in enumerate(symbols):
        story = _new_story(rng, symbol, lead if n == 0 else rng.choice(kinds), first_bar)
        ready = _entries(story, rng, rng.randint(2, 9), heat=False)
        _ending(story, rng, ready)
        stories.append(story)
    return stories


def _heat(rng: random.Random, symbols: list[str], first_bar: datetime) -> list[Story]:
    """Before the batch: a Spring and an SOS at 2% requested (3.5%), and an SOS with the Spring
    skipped (2%); then four signals at once (1.5, 1.5, 2 and 2%) against 10% heat: the two
    scored highest fit, the other two are refused. The Spring's targets start at the jump,
    so no stop trails (and no risk leaves the heat) before the batch."""
    kinds = ("FULL", "SKIP", "SOS", "LPS")
    a, b, c, d = (_new_story(rng, s, e, first_bar) for s, e in zip(symbols, kinds, strict=True))
    a.ending = rng.choice(("LADDER2", "LADDER3"))  # a Spring's stop trails only after t2 here
    batch_bar = rng.randint(14, 17)
    spring, sos = rng.randint(2, 4), rng.randint(7, 9)
    a.through((0, "-0.05"), (spring, SPRING_ENTRY), (sos, SOS_ENTRY))
    a.through(((sos + batch_bar) // 2, "0.25"), (batch_bar, LPS_ENTRY))
    targets = (D(1), D("1.5"), D(2))
    a.signal(rng, spring, "SPRING", SPRING_ENTRY, SPRING_STOP, requested="2.0", targets=targets)
    a.signal(rng, sos, "SOS", SOS_ENTRY, SOS_STOP, requested="2.0")
    skipped = rng.randint(3, 6)
    b.through((0, "-0.30"), (skipped, SOS_ENTRY), ((skipped + batch_bar) // 2, "0.25"))
    b.at(batch_bar, LPS_ENTRY)
    b.signal(rng, skipped, "SOS", SOS_ENTRY, SOS_STOP)
    c.through((0, "-0.30"), (batch_bar, SOS_ENTRY))
    d.through((0, "-0.10"), (batch_bar, LPS_ENTRY))
    for story, pattern, entry, stop, requested in (
        (c, "SOS", SOS_ENTRY, SOS_STOP, None),
        (a, "LPS", LPS_ENTRY, LPS_STOP, "2.0"),
        (d, "LPS", LPS_ENTRY, LPS_STOP, None),
        (b, "LPS", LPS_ENTRY, LPS_STOP, "2.0"),
    ):
        story.signal(rng, batch_bar, pattern, entry, stop, batch="heat", requested=requested)
    for story in (a, b, c, d):
        _ending(story, rng, batch_bar)
    return [a, b, c, d]


def _refused_in_batch(stories: list[Story]) -> set[str]:
    """The batch's two lowest in priority order (SPEC section 3 rule 11) go over the heat."""
    members = [(s, x) for s in stories for x in s.signals if x.get("batch") == "heat"]
    if not members:
        return set()

    def rank(member: tuple[Story, dict[str, Any]]) -> tuple[Decimal, Decimal, str]:
        story, record = member
        parsed = ScenarioSignal.model_validate(record)
        entry = parsed.entry_signal(_range_of(story), uuid5(_IDS, parsed.id), story.start)
        return priority_score(entry), PATTERN_PRIORITY[parsed.pattern], str(entry.signal_id)

    ranked = sorted(members, key=rank, reverse=True)
    if rank(ranked[1])[:2] == rank(ranked[2])[:2]:
        raise ValueError("a tie at the heat boundary; the expectation would rest on ids")
    return {x["id"] for _, x in ranked[2:]}


def _range_of(story: Story) -> TradingRange:
    return ScenarioRange.model_validate(_range_record(story, "NOT_CREATED", [])).trading_range(
        uuid5(_IDS, story.key)
    )


def _range_record(story: Story, status: str, entries: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "key": story.key,
        "symbol": story.symbol,
        "timeframe": "1h",
        "start_time": story.start.isoformat().replace("+00:00", "Z"),
        "creek": str(story.price(D("-0.60"))),
        "ice": str(story.ice),
        "jump": str(story.ice + story.move),
        "story": f"{story.entries} then {story.ending}",
        "expect": {"status": status, "entries": entries},
    }
    if story.spring_low:
        record["spring_low"] = str(story.price(SPRING_LOW))
    return record


def _expectation(story: Story, refused: set[str]) -> tuple[str, list[str]]:
    taken = [
        x["pattern"]
        for x in story.signals
        if x["id"] not in refused and not x["id"].endswith("-late") and int(x["confidence"]) >= 70
    ]
    if not taken:
        return "NOT_CREATED", []
    order = ("SPRING", "SOS", "LPS")
    entries = sorted(set(taken), key=order.index)
    return ("INVALIDATED" if story.ending == "BREAK" else "COMPLETED"), entries


@dataclass(frozen=True, slots=True)
class Generated:
    """A scenario's two files, as text."""

    document: str
    prices: str

    def scenario(self, origin: str) -> Scenario:
        return scenario_from_text(self.document, self.prices, origin)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scenario.json").write_text(self.document, encoding="utf-8")
        (folder / "prices.csv").write_text(self.prices, encoding="utf-8")
        return folder


def first_bar_of(seed: int) -> datetime:
    return FIRST_BAR_AT + (seed - 1) * SEED_SPACING


def generate_scenario(seed: int) -> Generated:
    """The scenario of ``seed`` (1 and up): always the same files for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - synthetic prices, not security
    first_bar = first_bar_of(seed)
    heat = seed % HEAT_EVERY == 0
    symbols = rng.sample(SYMBOLS, 4 if heat else rng.randint(2, 3))
    stories = _heat(rng, symbols, first_bar) if heat else _plain(rng, seed, symbols, first_bar)
    refused = _refused_in_batch(stories)
    ranges, signals = [], []
    for story in stories:
        ranges.append(_range_record(story, *_expectation(story, refused)))
        signals.extend(story.signals)
    signals.sort(key=lambda x: int(x["bar"]))  # stable: a story's own order within a bar
    document = {
        "name": f"random-{seed}",
        "description": f"Seeded scenario {seed}: "
        + "; ".join(f"{s.symbol} {s.entries} then {s.ending}" for s in stories)
        + ("; a batch refused in part for heat" if heat else ""),
        "prices": "prices.csv",
        "ranges": ranges,
        "signals": signals,
    }
    paths = tuple(
        SymbolPath(
            s.symbol,
            tuple((bar, s.price(units)) for bar, units in s.points),
            noise=max(CENT, (s.move * D("0.03")).quantize(CENT)),
            wick=max(CENT, (s.move * D("0.04")).quantize(CENT)),
            gaps=frozenset(s.gaps),
        )
        for s in stories
    )
    bars = generate(paths, seed, bars=BARS, first_bar_at=first_bar)
    return Generated(json.dumps(document, indent=2) + "\n", csv_text(bars))


def random_scenario(seed: int) -> Scenario:
    return generate_scenario(seed).scenario(f"random scenario {seed}")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[0].isdigit():
        sys.stderr.write("usage: python -m campaign_engine.scenarios.random_scenarios SEED DIR\n")
        return 2
    folder = generate_scenario(int(argv[0])).write(Path(argv[1]))
    sys.stdout.write(f"wrote {folder / 'scenario.json'} and {folder / 'prices.csv'}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
