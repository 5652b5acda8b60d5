"""The live player in market time, against an API in memory: every bar goes out with the
scenario's own ``as_of`` moved by one whole-day shift, every signal with the instant the
backtest decides it at moved the same way, a repeated bar keeps its time, and the shift puts
the play before now, after every bar the stack holds of its symbols, on free campaign ids."""

import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from rich.console import Console
from rich.progress import Progress

from campaign_engine.backtest.sources import scenario_timeline
from campaign_engine.backtest.timeline import Decision
from campaign_engine.domain.market import EntrySignal, PriceUpdate
from campaign_engine.scenarios import Scenario, load_scenario
from campaign_engine.scenarios.play_dates import (
    DAY,
    candidate_shifts,
    first_and_last,
    newest_on_stack,
)
from campaign_engine.scenarios.player import Player
from campaign_engine.scenarios.stack_api import DemoApi, DemoError

NOW = datetime(2026, 12, 7, 23, 8, tzinfo=UTC)


class MemoryApi(DemoApi):
    """What the player sends, kept; every signal refused (no campaign to wait for), and the
    campaigns of earlier plays as the stack would list them."""

    def __init__(self, listed: Sequence[dict[str, Any]] = (), too_old: int = 0) -> None:
        self.url = "memory"
        self.listed = list(listed)
        self.too_old = too_old
        self.posted: list[list[PriceUpdate]] = []
        self.signals: list[EntrySignal] = []

    async def check(self) -> None:
        return None

    async def portfolio(self) -> dict[str, Any] | None:
        return None

    async def campaign(self, campaign_id: str) -> dict[str, Any] | None:
        return next((c for c in self.listed if c["campaign_id"] == campaign_id), None)

    async def campaigns_of(self, symbol: str) -> list[dict[str, Any]]:
        return [c for c in self.listed if c["symbol"] == symbol]

    async def signal(self, signal: EntrySignal) -> dict[str, Any]:
        return (await self.batch([signal]))[0]

    async def batch(self, signals: Sequence[EntrySignal]) -> list[dict[str, Any]]:
        self.signals.extend(signals)
        return [{"signal_id": str(s.signal_id), "approved": False} for s in signals]

    async def prices(self, updates: Sequence[PriceUpdate]) -> int:
        self.posted.append(list(updates))
        return self.too_old


@pytest.fixture(scope="module")
def demo() -> Scenario:
    return load_scenario()


def _player(demo: Scenario, api: MemoryApi) -> Player:
    progress = Progress(console=Console(file=io.StringIO()))
    return Player(demo, api, speed=1_000_000.0, progress=progress)


def _campaign_of_a_play(demo: Scenario, key: str, shift: timedelta) -> dict[str, Any]:
    """A campaign as GET /campaigns lists it, made by an earlier play shifted by ``shift``."""
    r = demo.range(key)
    signal = next(s for s in demo.signals if s.range == key)
    return {
        "campaign_id": r.campaign_id(shift),
        "symbol": r.symbol,
        "timeframe": r.timeframe,
        "creek": str(r.creek),
        "ice": str(r.ice),
        "jump": str(r.jump),
        "spring_low": None if r.spring_low is None else str(r.spring_low),
        "created_at": (demo.decision_time(signal.bar) + shift).isoformat(),
        "last_price_at": (demo.bars[signal.bar + 40][0].as_of + shift).isoformat(),
        "closed_at": (demo.bars[signal.bar + 40][0].as_of + shift).isoformat(),
    }


async def test_bars_and_signals_go_out_in_the_scenarios_market_time(demo: Scenario) -> None:
    api = MemoryApi()
    player = _player(demo, api)
    before = datetime.now(UTC)
    await player.prepare()
    chosen = datetime.now(UTC)
    await player.run(player.progress.add_task("playing", total=len(demo.bars)))

    shift = player.shift
    assert shift % DAY == timedelta(0)
    assert len(api.posted) == len(demo.bars)
    for index, (posted, bar) in enumerate(zip(api.posted, demo.bars, strict=True)):
        assert [u.as_of for u in posted] == [u.as_of + shift for u in bar], index
        unshifted = [u.model_copy(update={"as_of": u.as_of - shift}) for u in posted]
        assert unshifted == list(bar), index  # the scenario's prices, as they are
    times = [bar[0].as_of for bar in api.posted]
    assert {b - a for a, b in pairwise(times)} == {timedelta(hours=1)}
    _, last = first_and_last(demo)
    assert before - DAY <= last + shift < chosen  # the latest whole-day shift before now
    # Each signal at the instant the backtest decides it at, moved by the same shift.
    decided = {
        s.signal_id: step.at
        for step in scenario_timeline(demo).steps
        if isinstance(step, Decision)
        for s in step.signals
    }
    backtest_times = sorted(decided.values())
    assert sorted(s.generated_at for s in api.signals) == [t + shift for t in backtest_times]
    assert player.stamps == [max(u.as_of for u in bar) for bar in api.posted]
    assert player.bar_at(player.stamps[130] + timedelta(minutes=59), "AAPL") == 130


async def test_a_repeated_bar_keeps_its_market_time(demo: Scenario) -> None:
    api = MemoryApi()
    player = _player(demo, api)
    await player.prepare()
    await player.post_bar(0)
    await player.post_bar(1)
    await player._post(1)  # the nudge's repeat
    assert api.posted[2] == api.posted[1]
    assert player.stamps == [api.posted[0][0].as_of, api.posted[1][0].as_of]


async def test_a_bar_the_stack_calls_too_old_stops_the_play(demo: Scenario) -> None:
    player = _player(demo, MemoryApi(too_old=2))
    await player.prepare()
    with pytest.raises(DemoError, match="2 price"):
        await player.post_bar(0)


async def test_a_play_after_another_starts_after_its_last_bar(demo: Scenario) -> None:
    first_play = _player(demo, MemoryApi())
    await first_play.prepare()
    earlier = [_campaign_of_a_play(demo, k, first_play.shift) for k in ("aapl", "nvda")]
    player = _player(demo, MemoryApi(earlier))
    await player.prepare()
    first, last = first_and_last(demo)
    assert first + player.shift > last + first_play.shift  # no bar older than the stack's
    assert first + player.shift - (last + first_play.shift) <= DAY  # and no later than need be
    assert {player.campaign_id(r.key) for r in demo.ranges}.isdisjoint(
        {c["campaign_id"] for c in earlier}
    )


def test_the_newest_time_counts_an_earlier_play_to_its_last_bar(demo: Scenario) -> None:
    shift = 700 * DAY
    aapl = _campaign_of_a_play(demo, "aapl", shift)
    assert newest_on_stack(demo, [aapl]) == first_and_last(demo)[1] + shift
    # A campaign of another scenario (other levels) counts only its own times.
    other = {**aapl, "creek": "1.00", "campaign_id": "AAPL-2030-01-02"}
    assert newest_on_stack(demo, [other]) == datetime.fromisoformat(aapl["closed_at"])
    assert newest_on_stack(demo, []) is None


def test_candidate_shifts_end_before_now_then_follow_the_stack(demo: Scenario) -> None:
    first, last = first_and_last(demo)
    shifts = candidate_shifts(demo, NOW, None)
    best = next(shifts)
    assert last + best < NOW <= last + best + DAY
    assert next(shifts) == best - DAY  # then earlier days, still before now
    # The stack holds bars up to a day before now: no room before now, so the first day after.
    after = NOW - DAY
    best = next(candidate_shifts(demo, NOW, after))
    assert after < first + best <= after + DAY
    # Bars up to long ago leave room: the latest shift before now again.
    assert next(candidate_shifts(demo, NOW, NOW - 400 * DAY)) == next(
        candidate_shifts(demo, NOW, None)
    )
