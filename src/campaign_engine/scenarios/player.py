"""Playing a scenario's steps against the stack: signals before their bar, bars at the chosen
speed, and between them waiting until the open campaigns have caught up. Every bar and signal
carries the scenario's own market time, moved by the play's whole-day shift (play_dates.py)."""

import asyncio
import bisect
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4, uuid5

from rich.markup import escape
from rich.progress import Progress, TaskID

from campaign_engine.domain.market import EntrySignal, TradingRange
from campaign_engine.scenarios import Scenario, ScenarioSignal, Step
from campaign_engine.scenarios.play_dates import candidate_shifts, newest_on_stack
from campaign_engine.scenarios.play_table import number_text
from campaign_engine.scenarios.stack_api import (
    TERMINAL,
    DemoApi,
    DemoError,
    decimal_or_none,
    is_closed,
    time_or_none,
)

POLL_SECONDS = 0.1
WAIT_SECONDS = 60.0  # how long a campaign may take to catch up before the demo gives up
SETTLE_SECONDS = 30.0  # how long the last bar's exits may take before the outcome is shown
WATCH_SECONDS = 1.0
NUDGE_SECONDS = 0.6  # a little over the publisher's flush interval


@dataclass
class Player:
    """One play of a scenario: what it has posted, and what it has seen of the campaigns."""

    scenario: Scenario
    api: DemoApi
    speed: float
    progress: Progress
    run_id: UUID = field(default_factory=uuid4)
    shift: timedelta = timedelta(0)
    ranges: dict[str, TradingRange] = field(default_factory=dict)
    created_at_bar: dict[str, int] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)
    statuses: dict[str, str] = field(default_factory=dict)
    stamps: list[datetime] = field(default_factory=list)  # each bar posted: its newest as_of

    def say(self, text: str) -> None:
        self.progress.console.print(text, highlight=False)

    def campaign_id(self, key: str) -> str:
        return self.scenario.range(key).campaign_id(self.shift)

    def at(self, index: int, symbol: str) -> datetime:
        """The market time of ``symbol``'s bar ``index`` as played."""
        return next(u.as_of for u in self.scenario.bars[index] if u.symbol == symbol) + self.shift

    # --- setting up ------------------------------------------------------------------------

    async def prepare(self) -> None:
        await self.api.check()
        self.shift = await self._free_dates()
        for r in self.scenario.ranges:
            self.ranges[r.key] = r.trading_range(uuid5(self.run_id, f"range:{r.key}"), self.shift)
        portfolio = await self.api.portfolio()
        heat = decimal_or_none((portfolio or {}).get("heat_pct"))
        if heat:
            self.say(
                f"[yellow]portfolio heat is already {heat:.2f}% from other campaigns: decisions "
                "that depend on heat may differ from what the scenario expects[/]"
            )

    async def _free_dates(self) -> timedelta:
        """The whole-day shift of this play (play_dates.py): after every bar the stack holds
        of the scenario's symbols, ending before now where that leaves room, and with no
        campaign of the stack holding one of its ranges' human ids (symbol and start date)."""
        listed = await asyncio.gather(*(self.api.campaigns_of(s) for s in self.scenario.symbols))
        after = newest_on_stack(self.scenario, [c for found in listed for c in found])
        for shift in candidate_shifts(self.scenario, datetime.now(UTC), after):
            ids = [r.campaign_id(shift) for r in self.scenario.ranges]
            found = await asyncio.gather(*(self.api.campaign(i) for i in ids))
            if all(f is None for f in found):
                return shift
        raise DemoError("every start date of two years around today is taken by earlier plays")

    # --- signals ---------------------------------------------------------------------------

    def _entry(self, signal: ScenarioSignal) -> EntrySignal:
        """The signal as sent, generated at its decision time in market time: the instant the
        backtest gives it, moved by the play's shift."""
        return signal.entry_signal(
            self.ranges[signal.range],
            uuid5(self.run_id, f"signal:{signal.id}"),
            self.scenario.decision_time(signal.bar) + self.shift,
        )

    async def send(self, step: Step) -> None:
        entries = [self._entry(s) for s in step.signals]
        by_id = {entry.signal_id: s for entry, s in zip(entries, step.signals, strict=True)}
        if step.batch is None:
            plans = [await self.api.signal(entries[0])]
            lead = f"bar {step.bar:>3}     "
        else:
            plans = await self.api.batch(entries)
            self.say(
                f"bar {step.bar:>3}     batch [bold]{escape(step.batch)}[/]: {len(entries)} "
                "signals, decided in priority order"
            )
            lead = " " * 12
        for plan in plans:
            signal = by_id.get(UUID(str(plan.get("signal_id"))))
            if signal is None:
                raise DemoError(f"the API answered a plan for an unknown signal: {plan!r}")
            self.say(lead + self._describe(signal, plan))
            if plan.get("approved") and signal.range not in self.created_at_bar:
                self.created_at_bar[signal.range] = step.bar

    def _describe(self, signal: ScenarioSignal, plan: dict[str, Any]) -> str:
        what = f"{self.scenario.range(signal.range).symbol} {signal.pattern.value}"
        score = decimal_or_none(plan.get("priority_score"))
        scored = f" (score {score:.1f})" if score is not None else ""
        if not plan.get("approved"):
            reason = escape(str(plan.get("rejection_reason") or "refused"))
            return f"{what}{scored} [red]refused[/]: {reason}"
        shares = number_text(decimal_or_none(plan.get("shares")))
        risk = number_text(decimal_or_none(plan.get("actual_risk_pct")), 2)
        heat = number_text(decimal_or_none(plan.get("heat_after_pct")), 2)
        return (
            f"{what}{scored} [green]approved[/] {shares} shares @ {signal.entry_price}, "
            f"risk {risk}%, heat {heat}%"
        )

    # --- prices ----------------------------------------------------------------------------

    async def post_bar(self, index: int) -> None:
        self.stamps.append(max(u.as_of for u in self.scenario.bars[index]) + self.shift)
        too_old = await self._post(index)
        if too_old:
            raise DemoError(
                f"{too_old} price(s) of bar {index} ({self.stamps[index]:%Y-%m-%d %H:%M} UTC) "
                "are not later than prices the stack holds of their symbols already, so no "
                "campaign can take them: were prices of these symbols posted by something else?"
            )

    async def _post(self, index: int) -> int:
        """Post bar ``index`` at its market time; how many of its prices came too late."""
        return await self.api.prices(
            [
                u.model_copy(update={"as_of": u.as_of + self.shift})
                for u in self.scenario.bars[index]
            ]
        )

    def bar_at(self, moment: datetime | None, symbol: str) -> int | None:
        """The index of the newest bar of ``symbol`` posted at or before ``moment``."""
        if moment is None:
            return None
        times = [self.at(i, symbol) for i in range(len(self.stamps))]
        index = bisect.bisect_right(times, moment) - 1
        return index if index >= 0 else None

    # --- watching campaigns ----------------------------------------------------------------

    async def look(self, key: str) -> dict[str, Any] | None:
        """The campaign as the API shows it; a change of status is reported."""
        campaign = await self.api.campaign(self.campaign_id(key))
        if campaign is None:
            return None
        status = str(campaign.get("status"))
        before = self.statuses.get(key)
        if status != before:
            self.statuses[key] = status
            # Bars reach campaigns merged, a few times a second: "by" the newest bar posted.
            change = f"{before} -> {status}" if before else f"opened, {status}"
            line = f"by bar {len(self.stamps) - 1:>3}  {self.campaign_id(key)} [bold]{change}[/]"
            if status in TERMINAL:
                realized = decimal_or_none(campaign.get("realized_pnl"))
                line += f", realized P&L {number_text(realized, 2)}"
                reason = campaign.get("invalidation_reason")
                line += f"; {escape(str(reason))}" if reason else ""
            self.say(line)
        if is_closed(campaign):
            self.closed.add(key)
        return campaign

    def open_keys(self, up_to_bar: int) -> list[str]:
        return [
            key
            for key, bar in self.created_at_bar.items()
            if bar <= up_to_bar and key not in self.closed
        ]

    async def catch_up(self, bar: int, timeout: float) -> None:
        """Until every open campaign has taken bar ``bar`` (or has closed)."""
        if bar < 0 or bar >= len(self.stamps):
            return

        async def taken(key: str) -> None:
            symbol = self.scenario.range(key).symbol
            target = self.at(bar, symbol)
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                campaign = await self.look(key)  # None: approved, not in the read model yet
                seen = time_or_none(campaign.get("last_price_at")) if campaign else None
                if key in self.closed or (seen is not None and seen >= target):
                    return
                if asyncio.get_running_loop().time() > deadline:
                    last = self.bar_at(seen, symbol)
                    where = "no price yet" if last is None else f"the price of bar {last}"
                    raise DemoError(
                        f"campaign {self.campaign_id(key)} has not taken bar {bar} within "
                        f"{timeout:.0f} s: its last_price_at shows {where}. Is the worker "
                        "running, and does the API report the campaign's live last price?"
                    )
                await asyncio.sleep(POLL_SECONDS)

        waiting = self.open_keys(bar)
        if not waiting:
            return
        done = asyncio.Event()
        nudging = asyncio.create_task(self._nudge(done))
        try:
            await asyncio.gather(*(taken(k) for k in waiting))
        finally:
            done.set()  # a repeat in flight completes before any later bar is posted
            await asyncio.gather(nudging, return_exceptions=True)

    async def _nudge(self, done: asyncio.Event) -> None:
        """Post the last bar again, unchanged, while waiting. The publisher finds a new
        campaign when it next flushes the symbol and only then sends it the bars it missed;
        with no new bar there would be no flush. A repeated bar keeps its market time: it is
        stale to every campaign that has it (the API counts it ``too_old``, as expected here),
        so nothing else changes."""
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), NUDGE_SECONDS)
                return
            await self._post(len(self.stamps) - 1)

    async def watch(self) -> None:
        """Report status changes while bars are flowing."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            for key in self.open_keys(len(self.scenario.bars)):
                await self.look(key)

    # --- the play --------------------------------------------------------------------------

    async def run(self, task: TaskID) -> None:
        steps = self.scenario.steps()
        interval = 1.0 / self.speed
        loop = asyncio.get_running_loop()
        due = loop.time()
        for index in range(len(self.scenario.bars)):
            if index in steps:
                self.progress.update(task, description="waiting for campaigns")
                await self.catch_up(index - 1, WAIT_SECONDS)
                self.progress.update(task, description="playing")
                for step in steps[index]:
                    await self.send(step)
            await self.post_bar(index)
            self.progress.update(task, completed=index + 1)
            due = max(due + interval, loop.time() - interval)
            await asyncio.sleep(max(0.0, due - loop.time()))
        self.progress.update(task, description="waiting for campaigns")
        await self.catch_up(len(self.stamps) - 1, WAIT_SECONDS)
        await self.settle(SETTLE_SECONDS)
        self.progress.update(task, description="done")

    async def settle(self, timeout: float) -> None:
        """Having taken the last bar is not having carried out what it triggered: the exit
        orders of a crossing are placed and filled after the price is evaluated. Give the
        campaigns expected to close the time to do so (on a busy machine, seconds)."""
        closing = [
            r.key
            for r in self.scenario.ranges
            if r.key in self.created_at_bar and r.expect.status.value in TERMINAL
        ]
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            waiting = [key for key in closing if key not in self.closed]
            if not waiting:
                return
            for key in waiting:
                await self.look(key)
            await asyncio.sleep(POLL_SECONDS)
