"""The demo: play a scenario through the running stack's REST API and show what came of it.

Bars are posted ``speed`` per second (every symbol's bar in one request); each signal goes
just before its bar, alone or in its batch. Prices reach campaigns through the coalescing
publisher, a few merged bars a second, so before any signal the player waits until every
open campaign has taken the bar before it: a decision then sees the portfolio (heat, equity)
the scenario means it to see. At the end it waits until every campaign has taken the last bar
or has closed, and prints a table of the campaigns beside what the scenario expects.

Each play is new to the stack: its signal and range ids derive from a fresh run id, its
ranges start on dates no campaign of theirs holds yet (the human campaign id is symbol and
start date), and bars carry the wall-clock time they are posted at (a campaign takes the bars
stamped after its creation). So the demo can be played again and again against one stack.
"""

import asyncio
import bisect
import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4, uuid5

import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from campaign_engine.domain.market import EntrySignal, PriceUpdate, TradingRange
from campaign_engine.domain.vocabulary import LONG_SEQUENCE
from campaign_engine.scenario import (
    ExpectedStatus,
    Scenario,
    ScenarioError,
    ScenarioRange,
    ScenarioSignal,
    Step,
    load_scenario,
)

__all__ = [
    "CampaignSummary",
    "DemoError",
    "Scenario",
    "ScenarioError",
    "campaigns_table",
    "load_scenario",
    "play",
    "run_demo",
]

DEFAULT_API_URL = "http://127.0.0.1:8000"
API_PREFIX = "/api/v1"
POLL_SECONDS = 0.1
WAIT_SECONDS = 60.0  # how long a campaign may take to catch up before the demo gives up
SETTLE_SECONDS = 30.0  # how long the last bar's exits may take before the outcome is shown
WATCH_SECONDS = 1.0
NUDGE_SECONDS = 0.6  # a little over the publisher's flush interval
_TERMINAL = {ExpectedStatus.COMPLETED.value, ExpectedStatus.INVALIDATED.value}


class DemoError(Exception):
    """The scenario could not be played: the stack is unreachable, refused something, or a
    campaign did not keep up."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignSummary:
    """One range of the scenario after the play, beside what was expected of it."""

    key: str
    campaign_id: str
    symbol: str
    status: str  # a campaign status, or NOT_CREATED
    entries: tuple[str, ...]  # patterns whose entries filled
    realized_pnl: Decimal | None
    r_multiple: Decimal | None
    expected_status: str
    expected_entries: tuple[str, ...]
    story: str = ""

    @property
    def as_expected(self) -> bool:
        return (self.status, self.entries) == (self.expected_status, self.expected_entries)


# --- the REST API ----------------------------------------------------------------------------


class _Api:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self._http = http
        self.url = url

    async def _call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise DemoError(
                f"cannot reach the campaign-engine API at {self.url} ({error!r}); "
                "start the stack with `campaigns dev` or pass the API's URL"
            ) from None
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise DemoError(
                "the API refused the request (401): give its token (API_TOKEN or --token)"
            )
        return response

    @staticmethod
    def _refused(what: str, response: httpx.Response) -> DemoError:
        try:
            body = response.json()
        except ValueError:
            body = None
        detail = body.get("detail", body) if isinstance(body, dict) else response.text
        return DemoError(f"the API refused {what} ({response.status_code}): {detail}")

    async def check(self) -> None:
        response = await self._call("GET", "/healthz")
        if response.status_code != httpx.codes.OK:
            raise self._refused("the health check", response)

    async def portfolio(self) -> dict[str, Any] | None:
        response = await self._call("GET", "/portfolio")
        return _object(response) if response.status_code == httpx.codes.OK else None

    async def campaign(self, campaign_id: str) -> dict[str, Any] | None:
        response = await self._call("GET", f"/campaigns/{campaign_id}")
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if response.status_code != httpx.codes.OK:
            raise self._refused(f"reading campaign {campaign_id}", response)
        return _object(response)

    async def positions(self, campaign_id: str) -> list[dict[str, Any]]:
        response = await self._call(
            "GET", f"/campaigns/{campaign_id}/positions?include_closed=true"
        )
        if response.status_code != httpx.codes.OK:
            raise self._refused(f"reading the positions of {campaign_id}", response)
        return _positions(response.json())

    async def signal(self, signal: EntrySignal) -> dict[str, Any]:
        response = await self._call("POST", "/signals", signal.model_dump(mode="json"))
        if response.status_code != httpx.codes.OK:
            raise self._refused(f"signal {signal.signal_id}", response)
        return _object(response)

    async def batch(self, signals: Sequence[EntrySignal]) -> list[dict[str, Any]]:
        body = [s.model_dump(mode="json") for s in signals]
        response = await self._call("POST", "/signals/batch", body)
        if response.status_code != httpx.codes.OK:
            raise self._refused("a batch of signals", response)
        plans = response.json()
        if not isinstance(plans, list):
            raise DemoError(f"POST /signals/batch answered {plans!r}, not a list of plans")
        return plans

    async def prices(self, updates: Sequence[PriceUpdate]) -> None:
        body = [u.model_dump(mode="json", exclude_none=True) for u in updates]
        response = await self._call("POST", "/prices", body)
        if response.status_code not in (httpx.codes.OK, httpx.codes.ACCEPTED):
            raise self._refused("a price update", response)


def _object(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    if not isinstance(body, dict):
        raise DemoError(f"{response.request.url} answered {body!r}, not an object")
    return body


def _positions(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict):
        body = body.get("positions", body.get("data", []))
    return [p for p in body if isinstance(p, dict)] if isinstance(body, list) else []


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _closed(campaign: dict[str, Any]) -> bool:
    return campaign.get("status") in _TERMINAL and campaign.get("closed_at") is not None


# --- the player ------------------------------------------------------------------------------


def _number(value: Decimal | None, places: int | None = None) -> str:
    if value is None:
        return "-"
    if places is None:
        return f"{value.normalize():,f}"
    return f"{value:,.{places}f}"


@dataclass
class _Player:
    scenario: Scenario
    api: _Api
    speed: float
    progress: Progress
    run_id: UUID = field(default_factory=uuid4)
    shift: timedelta = timedelta(0)
    ranges: dict[str, TradingRange] = field(default_factory=dict)
    created_at_bar: dict[str, int] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)
    statuses: dict[str, str] = field(default_factory=dict)
    stamps: list[datetime] = field(default_factory=list)  # as_of of each bar posted

    def say(self, text: str) -> None:
        self.progress.console.print(text, highlight=False)

    def campaign_id(self, key: str) -> str:
        return self.scenario.range(key).campaign_id(self.shift)

    # --- setting up ------------------------------------------------------------------------

    async def prepare(self) -> None:
        await self.api.check()
        self.shift = await self._free_dates()
        for r in self.scenario.ranges:
            self.ranges[r.key] = r.trading_range(uuid5(self.run_id, f"range:{r.key}"), self.shift)
        portfolio = await self.api.portfolio()
        heat = _decimal((portfolio or {}).get("heat_pct"))
        if heat:
            self.say(
                f"[yellow]portfolio heat is already {heat:.2f}% from other campaigns: decisions "
                "that depend on heat may differ from what the scenario expects[/]"
            )

    async def _free_dates(self) -> timedelta:
        """Shift every range by whole days so that each starts before today and no campaign
        of the stack already holds its human id (symbol and start date)."""
        latest = max(r.start_time for r in self.scenario.ranges).date()
        base = (datetime.now(UTC).date() - latest).days - 1
        for back in range(366):
            shift = timedelta(days=base - back)
            ids = [r.campaign_id(shift) for r in self.scenario.ranges]
            found = await asyncio.gather(*(self.api.campaign(i) for i in ids))
            if all(f is None for f in found):
                return shift
        raise DemoError("every start date of the past year is taken by earlier plays")

    # --- signals ---------------------------------------------------------------------------

    def _entry(self, signal: ScenarioSignal) -> EntrySignal:
        return signal.entry_signal(
            self.ranges[signal.range],
            uuid5(self.run_id, f"signal:{signal.id}"),
            datetime.now(UTC),
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
        score = _decimal(plan.get("priority_score"))
        scored = f" (score {score:.1f})" if score is not None else ""
        if not plan.get("approved"):
            reason = escape(str(plan.get("rejection_reason") or "refused"))
            return f"{what}{scored} [red]refused[/]: {reason}"
        shares = _number(_decimal(plan.get("shares")))
        risk = _number(_decimal(plan.get("actual_risk_pct")), 2)
        heat = _number(_decimal(plan.get("heat_after_pct")), 2)
        return (
            f"{what}{scored} [green]approved[/] {shares} shares @ {signal.entry_price}, "
            f"risk {risk}%, heat {heat}%"
        )

    # --- prices ----------------------------------------------------------------------------

    async def post_bar(self, index: int) -> None:
        now = datetime.now(UTC)
        stamp = max(now, self.stamps[-1] + timedelta(microseconds=1)) if self.stamps else now
        self.stamps.append(stamp)
        await self._post(index)

    async def _post(self, index: int) -> None:
        stamp = self.stamps[index]
        await self.api.prices(
            [u.model_copy(update={"as_of": stamp}) for u in self.scenario.bars[index]]
        )

    def bar_at(self, moment: datetime | None) -> int | None:
        """The index of the newest bar posted at or before ``moment``."""
        if moment is None:
            return None
        index = bisect.bisect_right(self.stamps, moment) - 1
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
            if status in _TERMINAL:
                line += f", realized P&L {_number(_decimal(campaign.get('realized_pnl')), 2)}"
                reason = campaign.get("invalidation_reason")
                line += f"; {escape(str(reason))}" if reason else ""
            self.say(line)
        if _closed(campaign):
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
        target = self.stamps[bar]

        async def taken(key: str) -> None:
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                campaign = await self.look(key)  # None: approved, not in the read model yet
                seen = _time(campaign.get("last_price_at")) if campaign else None
                if key in self.closed or (seen is not None and seen >= target):
                    return
                if asyncio.get_running_loop().time() > deadline:
                    last = self.bar_at(seen)
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
        with no new bar there would be no flush. A repeated bar is stale to every campaign
        that has it, so nothing else changes."""
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
            if r.key in self.created_at_bar and r.expect.status.value in _TERMINAL
        ]
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            waiting = [key for key in closing if key not in self.closed]
            if not waiting:
                return
            for key in waiting:
                await self.look(key)
            await asyncio.sleep(POLL_SECONDS)

    async def summary(self, r: ScenarioRange) -> CampaignSummary:
        campaign_id = self.campaign_id(r.key)
        campaign = await self.api.campaign(campaign_id)
        status = ExpectedStatus.NOT_CREATED.value
        entries: tuple[str, ...] = ()
        realized = r_multiple = None
        if campaign is not None:
            positions = _positions(campaign.get("positions"))
            if "positions" not in campaign:
                positions = await self.api.positions(campaign_id)
            filled = [p for p in positions if (_decimal(p.get("shares")) or 0) > 0]
            patterns = {str(p.get("pattern")) for p in filled}
            metrics = campaign.get("metrics")
            status = str(campaign.get("status"))
            entries = tuple(p.value for p in LONG_SEQUENCE if p.value in patterns)
            realized = _decimal(campaign.get("realized_pnl"))
            if isinstance(metrics, dict):
                r_multiple = _decimal(metrics.get("r_multiple"))
            if r_multiple is None:
                r_multiple = _r_of(filled, realized)
        return CampaignSummary(
            key=r.key,
            campaign_id=campaign_id,
            symbol=r.symbol,
            status=status,
            entries=entries,
            realized_pnl=realized,
            r_multiple=r_multiple,
            expected_status=r.expect.status.value,
            expected_entries=tuple(p.value for p in r.expect.entries),
            story=r.story,
        )


def _r_of(positions: Sequence[dict[str, Any]], realized: Decimal | None) -> Decimal | None:
    """Realized P&L in units of the risk taken at entry, when the API does not give it."""
    risk = Decimal(0)
    for p in positions:
        entry, stop = _decimal(p.get("entry_price")), _decimal(p.get("initial_stop"))
        shares = _decimal(p.get("shares"))
        if entry is None or stop is None or shares is None:
            return None
        risk += (entry - stop) * shares
    if realized is None or risk <= 0:
        return None
    return (realized / risk).quantize(Decimal("0.0001"))


def campaigns_table(scenario: Scenario, summaries: Sequence[CampaignSummary]) -> Table:
    table = Table(title=f"Scenario {escape(scenario.name)}: campaigns", title_justify="left")
    for column, justify in (
        ("campaign", "left"),
        ("symbol", "left"),
        ("status", "left"),
        ("entries", "left"),
        ("realized P&L", "right"),
        ("R", "right"),
        ("expected", "left"),
        ("", "center"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for s in summaries:
        colour = {"COMPLETED": "green", "INVALIDATED": "yellow", "NOT_CREATED": "dim"}.get(
            s.status, "cyan"
        )
        expected = s.expected_status
        if s.expected_entries:
            expected += f" ({', '.join(s.expected_entries)})"
        table.add_row(
            s.campaign_id if s.status != ExpectedStatus.NOT_CREATED.value else "-",
            s.symbol,
            f"[{colour}]{s.status}[/]",
            ", ".join(s.entries) or "-",
            _number(s.realized_pnl, 2),
            _number(s.r_multiple, 2),
            expected,
            "[green]ok[/]" if s.as_expected else "[bold red]NOT AS EXPECTED[/]",
        )
    return table


async def play(
    scenario: Scenario,
    *,
    api_url: str,
    token: str | None,
    speed: float,
    console: Console,
) -> list[CampaignSummary]:
    """Play ``scenario`` through the stack at ``api_url``; the campaigns it made, beside what
    the scenario expects of them, also printed as a table."""
    if speed <= 0:
        raise DemoError(f"speed must be positive, got {speed}")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    base = api_url.rstrip("/") + API_PREFIX
    console.rule(f"[bold]{escape(scenario.name)}[/]: {escape(scenario.description)}")
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30.0) as http:
        progress = Progress(
            TextColumn("[progress.description]{task.description:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("bars"),
            TimeElapsedColumn(),
            console=console,
        )
        player = _Player(scenario, _Api(http, api_url), speed, progress)
        await player.prepare()
        console.print(
            f"{len(scenario.ranges)} ranges, {len(scenario.signals)} signals, "
            f"{len(scenario.bars)} bars of {', '.join(scenario.symbols)} at {speed:g} bars/s",
            highlight=False,
        )
        for r in scenario.ranges:
            console.print(f"  {r.campaign_id(player.shift):<18} {escape(r.story)}", highlight=False)
        with progress:
            task = progress.add_task("playing", total=len(scenario.bars))
            watcher = asyncio.create_task(player.watch())
            try:
                await player.run(task)
            finally:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
        summaries = [await player.summary(r) for r in scenario.ranges]
    console.print(campaigns_table(scenario, summaries))
    missed = [s for s in summaries if not s.as_expected]
    if missed:
        console.print(
            f"[bold red]{len(missed)} of {len(summaries)} campaigns did not end as expected[/]"
        )
    else:
        console.print(f"[bold green]all {len(summaries)} campaigns ended as expected[/]")
    return summaries


def run_demo(
    scenario: Path | None = None,
    *,
    api_url: str = DEFAULT_API_URL,
    token: str | None = None,
    speed: float = 20.0,
    console: Console | None = None,
) -> int:
    """Play a scenario (None: the packaged demo) through the running stack. Exit code 0 when
    every campaign ended as expected, 1 when one did not, 2 when it could not be played."""
    console = console or Console()
    token = token if token is not None else (os.environ.get("API_TOKEN") or None)
    try:
        loaded = load_scenario(scenario)
        summaries = asyncio.run(
            play(loaded, api_url=api_url, token=token, speed=speed, console=console)
        )
    except (ScenarioError, DemoError) as error:
        console.print(f"[bold red]demo not played:[/] {escape(str(error))}")
        return 2
    return 0 if all(s.as_expected for s in summaries) else 1
