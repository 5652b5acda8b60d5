"""The demo scenario played through the whole stack: a real uvicorn serving the REST API, the
worker, Temporal and PostgreSQL. Every campaign must end as the scenario says, on the
scenario's own hours: the bars a campaign took are the scenario's, an hour apart, moved by
whole days to end before now (a second play follows the first). With a broker that leaves an
entry resting (``BROKER=sim``), an entry the market never trades down to expires after
``entry_order_ttl_bars`` bars of market time, however fast the bars are posted."""

import asyncio
import contextlib
import io
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from rich.console import Console
from temporalio.testing import WorkflowEnvironment

from campaign_engine.runtime.settings import Settings
from campaign_engine.scenarios import Scenario, load_scenario, scenario_from_text
from campaign_engine.scenarios.play import CampaignSummary, DemoError, play, run_demo
from tests.support.harness import Stack, eventually, running_stack

SPEED = 40.0  # bars per second: 300 bars in under 10 s, plus the waits for campaigns


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serving(stack: Stack, settings: Settings) -> AsyncIterator[str]:
    """The REST API on a free port, in this event loop, over the test's stack."""
    from campaign_engine.api import create_app

    app = create_app(settings, client=stack.client, engine=stack.engine)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    assert server.started, "the API did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def api_url(stack: Stack) -> AsyncIterator[str]:
    async with serving(stack, stack.settings) as url:
        yield url


@pytest.mark.long(seconds=31)
async def test_the_demo_ends_with_the_expected_statuses(api_url: str) -> None:
    scenario = load_scenario()
    output = io.StringIO()
    console = Console(file=output, width=160, force_terminal=False)
    summaries = await play(scenario, api_url=api_url, token=None, speed=SPEED, console=console)
    played = output.getvalue()
    assert {s.key: s.status for s in summaries} == {
        r.key: r.expect.status.value for r in scenario.ranges
    }, played
    assert all(s.as_expected for s in summaries), played
    assert "all 7 campaigns ended as expected" in played
    first = await _market_times(api_url, scenario, summaries)
    assert first[-1] < datetime.now(UTC)  # the whole play is in the past
    # Played again on the same stack: new ranges on new dates, the same outcomes, every bar
    # after the first play's (the publisher would pass no campaign an older one).
    again = await play(scenario, api_url=api_url, token=None, speed=SPEED, console=console)
    assert {s.campaign_id for s in again}.isdisjoint({s.campaign_id for s in summaries})
    assert [(s.status, s.entries) for s in again] == [(s.status, s.entries) for s in summaries]
    assert (await _market_times(api_url, scenario, again))[0] > first[-1]


def _shift(scenario: Scenario, summary: CampaignSummary) -> timedelta:
    """The whole days a play moved the scenario by, read from its campaign's id."""
    started = date.fromisoformat(summary.campaign_id.removeprefix(f"{summary.symbol}-"))
    return timedelta(days=(started - scenario.range(summary.key).start_time.date()).days)


async def _market_times(
    api_url: str, scenario: Scenario, summaries: list[CampaignSummary]
) -> list[datetime]:
    """The times of the bars a play posted (its scenario's, shifted), checked against what the
    API shows of every campaign it made: the bars of its chart, its creation (the signal's
    decision time, as the backtest has it) and the last price it took."""
    made = [s for s in summaries if s.status != "NOT_CREATED"]
    shift = _shift(scenario, made[0])
    played = [bar[0].as_of + shift for bar in scenario.bars]
    assert {played[i + 1] - played[i] for i in range(len(played) - 1)} == {timedelta(hours=1)}
    async with httpx.AsyncClient(base_url=api_url + "/api/v1") as http:
        for summary in made:
            assert _shift(scenario, summary) == shift
            campaign = (await http.get(f"/campaigns/{summary.campaign_id}")).json()
            bars = (await http.get(f"/campaigns/{summary.campaign_id}/bars?limit=2000")).json()
            times = {datetime.fromisoformat(b["as_of"]) for b in bars["bars"]}
            charted = sorted(t for t in times if t >= played[0])  # not an earlier play's
            closed = datetime.fromisoformat(campaign["closed_at"])
            assert charted == [t for t in played if t <= closed], summary.campaign_id
            signal = min(
                (s for s in scenario.signals if s.range == summary.key), key=lambda s: s.bar
            )
            opened = datetime.fromisoformat(campaign["created_at"])
            assert opened == scenario.decision_time(signal.bar) + shift, summary.campaign_id
            assert datetime.fromisoformat(campaign["last_price_at"]) in played
    return played


EXPIRY_SCENARIO = """{
  "name": "expiry",
  "description": "A Spring whose limit the market never trades down to",
  "ranges": [{"key": "ibm", "symbol": "IBM", "start_time": "2024-10-01T14:00:00Z",
              "creek": "100.00", "ice": "110.00", "jump": "120.00",
              "expect": {"status": "ACTIVE", "entries": []}}],
  "signals": [{"id": "ibm-spring", "range": "ibm", "bar": 2, "pattern": "SPRING",
               "entry_price": "99.00", "stop_loss": "97.00", "confidence": "80",
               "r_multiple": "3.0"}]
}"""
D0 = Decimal(0)
EXPIRY_BARS = 8  # hourly from 2024-10-02 14:00, every low above the Spring's limit of 99.00


def _expiry_prices() -> str:
    start = datetime(2024, 10, 2, 14, tzinfo=UTC)
    rows = [
        f"{n},IBM,{start + timedelta(hours=n):%Y-%m-%dT%H:%M:%SZ},100.30,100.60,100.10,100.40"
        for n in range(EXPIRY_BARS)
    ]
    return "\n".join(["bar,symbol,as_of,open,high,low,close", *rows])


@pytest.fixture
async def sim_stack(temporal: WorkflowEnvironment, database_url: str) -> AsyncIterator[Stack]:
    """The test's stack with ``BROKER=sim``: an entry rests until a bar trades through it."""
    settings = Settings(
        database_url=database_url,
        task_queue=f"campaigns-sim-{uuid.uuid4().hex[:8]}",
        metrics_port=None,
        broker="sim",
    )
    async with running_stack(temporal.client, database_url, settings) as running:
        yield running


async def test_an_entry_resting_unfilled_expires_in_the_plays_market_time(
    sim_stack: Stack,
) -> None:
    scenario = scenario_from_text(EXPIRY_SCENARIO, _expiry_prices(), "expiry")
    ttl = sim_stack.settings.policy.entry_order_ttl_bars
    assert 2 + ttl < EXPIRY_BARS  # the signal goes before bar 2: the expiry comes in the play
    output = io.StringIO()
    console = Console(file=output, width=160)
    async with serving(sim_stack, sim_stack.settings) as url:
        (summary,) = await play(scenario, api_url=url, token=None, speed=SPEED, console=console)
        assert summary.as_expected, output.getvalue()
        shift = _shift(scenario, summary)
        played = [bar[0].as_of + shift for bar in scenario.bars]
        assert played[-1] < datetime.now(UTC)
        async with httpx.AsyncClient(base_url=url + "/api/v1") as http:

            async def events() -> list[dict[str, Any]]:
                answer = (await http.get(f"/campaigns/{summary.campaign_id}/events")).json()
                return [e for e in answer["events"] if "kind" in e["data"]]

            async def released() -> bool:
                return any(e["data"]["kind"] == "EntryReleased" for e in await events())

            # The cancel's answer reaches the campaign when it next asks the broker (a poll).
            await eventually(released, timeout=60)
            campaign = (await http.get(f"/campaigns/{summary.campaign_id}")).json()
            bars = (await http.get(f"/campaigns/{summary.campaign_id}/bars")).json()
            by_kind = {e["data"]["kind"]: e for e in await events()}
    cancel = by_kind["OrderCancelRequested"]
    assert cancel["data"]["reason"] == f"entry unfilled after {ttl} bar(s) of 1h"
    # Asked on the first bar the campaign took at least ttl hours of market time after the
    # signal (a minute before bar 2): bar 2 + ttl or, as the publisher merges the bars posted
    # between two flushes into one stamped with the newest, a later one of the play; in real
    # time, within a second of the signal.
    asked = datetime.fromisoformat(cancel["occurred_at"])
    assert asked in played[2 + ttl :], (asked, played)
    assert datetime.fromisoformat(campaign["created_at"]) == scenario.decision_time(2) + shift
    released_entry = by_kind["EntryReleased"]["data"]
    assert (released_entry["status"], Decimal(released_entry["filled_shares"])) == ("CANCELLED", D0)
    assert Decimal(released_entry["released_shares"]) == Decimal(cancel["data"]["unfilled"]) > 0
    assert Decimal(released_entry["released_risk"]) > 0
    assert (campaign["status"], Decimal(campaign["reserved_risk"])) == ("ACTIVE", D0)
    assert sorted({datetime.fromisoformat(b["as_of"]) for b in bars["bars"]}) == played
    assert datetime.fromisoformat(campaign["last_price_at"]) == played[-1]


async def test_a_protected_api_wants_the_token(stack: Stack) -> None:
    settings = stack.settings.model_copy(update={"api_token": SecretStr("s3cret")})
    async with serving(stack, settings) as url:
        console = Console(file=io.StringIO())
        with pytest.raises(DemoError, match="401"):
            await play(load_scenario(), api_url=url, token=None, speed=100, console=console)


def test_no_stack_is_a_clear_error() -> None:
    output = io.StringIO()
    code = run_demo(api_url="http://127.0.0.1:9", console=Console(file=output, width=200))
    assert code == 2
    assert "cannot reach the campaign-engine API at http://127.0.0.1:9" in output.getvalue()


def test_a_bad_scenario_is_not_played(tmp_path: Path) -> None:
    (tmp_path / "scenario.json").write_text("{}")
    output = io.StringIO()
    assert run_demo(tmp_path, console=Console(file=output, width=200)) == 2
    assert "ranges: Field required" in output.getvalue()
