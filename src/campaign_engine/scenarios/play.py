"""The demo: play a scenario through the running stack's REST API and show what came of it.

Bars are posted ``speed`` per second (every symbol's bar in one request); each signal goes
just before its bar, alone or in its batch. Prices reach campaigns through the coalescing
publisher, a few merged bars a second, so before any signal the player waits until every
open campaign has taken the bar before it: a decision then sees the portfolio (heat, equity)
the scenario means it to see. At the end it waits until every campaign has taken the last bar
or has closed, and prints a table of the campaigns beside what the scenario expects.

Bars and signals carry the scenario's own market time, every one moved by the same whole
number of days: a bar its ``as_of``, a signal the instant the backtest decides it at (a minute
before its bar). So the page, the Temporal UI and the backtest report show the same hours, an
hour of market time passes with each bar of a ``1h`` scenario however fast they are posted,
and an entry resting unfilled (a broker that does not fill at once) expires after
``entry_order_ttl_bars`` bars as it would in the market.

Each play is new to the stack: its signal and range ids derive from a fresh run id, and the
shift (play_dates.py) puts its ranges on start dates no campaign holds yet (the human campaign
id is symbol and start date) and its bars after every bar the stack holds of its symbols,
ending before now when the stack leaves room (a play right after another follows it into the
days to come). So the demo can be played again and again against one stack.
"""

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from campaign_engine.scenarios import Scenario, ScenarioError, load_scenario
from campaign_engine.scenarios.play_dates import first_and_last
from campaign_engine.scenarios.play_table import CampaignSummary, campaigns_table, summarize
from campaign_engine.scenarios.player import Player
from campaign_engine.scenarios.stack_api import API_PREFIX, DEFAULT_API_URL, DemoApi, DemoError

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
        player = Player(scenario, DemoApi(http, api_url), speed, progress)
        await player.prepare()
        console.print(
            f"{len(scenario.ranges)} ranges, {len(scenario.signals)} signals, "
            f"{len(scenario.bars)} bars of {', '.join(scenario.symbols)} at {speed:g} bars/s",
            highlight=False,
        )
        console.print(_dates(scenario, player.shift), highlight=False)
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
        summaries = [
            await summarize(player.api, r, player.campaign_id(r.key)) for r in scenario.ranges
        ]
    console.print(campaigns_table(scenario, summaries))
    missed = [s for s in summaries if not s.as_expected]
    if missed:
        console.print(
            f"[bold red]{len(missed)} of {len(summaries)} campaigns did not end as expected[/]"
        )
    else:
        console.print(f"[bold green]all {len(summaries)} campaigns ended as expected[/]")
    return summaries


def _dates(scenario: Scenario, shift: timedelta) -> str:
    first, last = (t + shift for t in first_and_last(scenario))
    line = (
        f"market time {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC "
        f"(the scenario's dates {shift.days:+d} days)"
    )
    if last >= datetime.now(UTC):
        line += ", past now: the stack holds later prices of these symbols from earlier plays"
    return line


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
