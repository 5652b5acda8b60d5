"""The ``campaigns`` CLI as a user runs it: a separate process, configured by the environment,
against the test's Temporal server, worker and database."""

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from campaign_engine.db import schema
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import signal
from tests.support.harness import Stack, eventually

CLI = Path(sys.executable).parent / "campaigns"
CAMPAIGN = "AAPL-2024-10-15"


@dataclass
class Run:
    code: int
    out: str
    err: str


def _env(stack: Stack, **extra: str) -> dict[str, str]:
    target = stack.client.temporal.service_client.config.target_host
    env = {k: v for k, v in os.environ.items() if k != "API_TOKEN"}
    env.update(
        TEMPORAL_ADDRESS=target,
        DATABASE_URL=stack.settings.database_url or "",
        CAMPAIGNS_TASK_QUEUE=stack.settings.task_queue,
        ACCOUNT_EQUITY=str(stack.settings.account_equity),
        METRICS_PORT="off",
        COLUMNS="200",  # rich wraps tables to the terminal; keep rows on one line
    )
    env.update(extra)
    return env


async def campaigns(stack: Stack, *args: str, stdin: str | None = None, **env: str) -> Run:
    # An asyncio subprocess: the test's worker runs on this event loop and must keep serving.
    process = await asyncio.create_subprocess_exec(
        str(CLI),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(stack, **env),
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode() if stdin else None), 60)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


async def _campaign_row_exists(stack: Stack) -> bool:
    async with stack.engine.connect() as conn:
        found = await conn.execute(
            select(schema.campaigns.c.id).where(schema.campaigns.c.campaign_id == CAMPAIGN)
        )
        return found.first() is not None


async def test_submit_then_status_prices_and_list(stack: Stack, tmp_path: Path) -> None:
    spring = tmp_path / "spring.json"
    spring.write_text(signal(Pattern.SPRING).model_dump_json())

    submitted = await campaigns(stack, "submit", str(spring), "--json")
    assert submitted.code == 0, submitted.err
    [plan] = json.loads(submitted.out)
    assert plan["approved"] is True
    assert Decimal(plan["shares"]) == 333  # the SPEC worked example's Spring size
    assert plan["campaign_id"] == CAMPAIGN

    again = await campaigns(stack, "submit", "-", stdin=spring.read_text())
    assert again.code == 0, again.err
    assert "approved" in again.out and CAMPAIGN in again.out  # same signal id, same answer

    status = await campaigns(stack, "status", CAMPAIGN, "--json")
    assert status.code == 0, status.err
    state = json.loads(status.out)
    assert state["status"] == "ACTIVE"
    assert [p["pattern"] for p in state["positions"]] == ["SPRING"]

    bars = tmp_path / "prices.csv"
    bars.write_text(
        "symbol,as_of,open,high,low,close\n"
        "AAPL,2099-01-01T00:00:00Z,148.60,149.10,148.40,149.00\n"
        "AAPL,2099-01-01T00:01:00Z,149.00,149.40,148.90,149.20\n"
    )
    published = await campaigns(stack, "prices", str(bars))
    assert published.code == 0, published.err
    assert "published 2 update(s)" in published.out

    async def price_reached() -> bool:
        state = await stack.client.status(CAMPAIGN)
        return state is not None and state.last_price == Decimal("149.20")

    await eventually(price_reached)

    listed = await campaigns(stack, "list", "--status", "active")
    assert listed.code == 0, listed.err
    assert CAMPAIGN in listed.out and "ACTIVE" in listed.out
    none_completed = await campaigns(stack, "list", "--status", "COMPLETED")
    assert none_completed.code == 0 and CAMPAIGN not in none_completed.out

    shown = await campaigns(stack, "status", CAMPAIGN)
    assert shown.code == 0 and "SPRING" in shown.out and "ACTIVE" in shown.out


async def test_bad_input_is_explained_and_sends_nothing(stack: Stack, tmp_path: Path) -> None:
    data = json.loads(signal(Pattern.SPRING).model_dump_json())
    data["stop_loss"] = "not a price"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))

    refused = await campaigns(stack, "submit", str(bad))
    assert refused.code == 2
    assert "record 1, stop_loss" in refused.err and "nothing was sent" in refused.err
    assert not await _campaign_row_exists(stack)
    running = [
        w
        async for w in stack.client.temporal.list_workflows(
            f"TaskQueue = '{stack.settings.task_queue}'"
        )
    ]
    assert running == []

    missing = await campaigns(stack, "submit", str(tmp_path / "absent.json"))
    assert missing.code == 2 and "cannot read" in missing.err

    bogus = await campaigns(stack, "list", "--status", "SLEEPING")
    assert bogus.code == 2
    assert "not one of ACTIVE, MARKUP, COMPLETED, INVALIDATED, QUARANTINED" in bogus.err


async def test_unknown_campaign_unreachable_temporal_and_database_are_clear(stack: Stack) -> None:
    unknown = await campaigns(stack, "status", "NOPE-2024-01-01")
    assert unknown.code == 1
    assert "there is no campaign NOPE-2024-01-01" in unknown.err

    unreachable = await campaigns(stack, "status", CAMPAIGN, TEMPORAL_ADDRESS="127.0.0.1:1")
    assert unreachable.code == 1
    assert "cannot reach Temporal at 127.0.0.1:1" in unreachable.err
    assert "Traceback" not in unreachable.err

    bad_env = await campaigns(stack, "list", ACCOUNT_EQUITY="lots")
    assert bad_env.code == 1
    assert "ACCOUNT_EQUITY" in bad_env.err and "Traceback" not in bad_env.err

    no_database = await campaigns(
        stack, "list", DATABASE_URL="postgresql://postgres@127.0.0.1:1/postgres"
    )
    assert no_database.code == 1
    assert "the database is unavailable" in no_database.err
    assert "Traceback" not in no_database.err


async def test_demo_scenario_exports_for_editing_and_plays_only_against_a_stack(
    stack: Stack, tmp_path: Path
) -> None:
    folder = tmp_path / "my-scenario"
    exported = await campaigns(stack, "demo", "--export", str(folder))
    assert exported.code == 0, exported.err
    assert sorted(p.name for p in folder.iterdir()) == ["prices.csv", "scenario.json"]
    again = await campaigns(stack, "demo", "--export", str(folder))
    assert again.code == 2 and "is not empty" in again.err

    nobody = await campaigns(
        stack, "demo", "--scenario", str(folder), "--api", "http://127.0.0.1:9"
    )
    assert nobody.code == 2
    assert "Traceback" not in nobody.out + nobody.err


async def test_trading_state_shows_and_sets_the_portfolio_state(stack: Stack) -> None:
    shown = await campaigns(stack, "trading-state")
    assert shown.code == 0, shown.err
    assert "trading state ACTIVE" in shown.out
    halted = await campaigns(stack, "trading-state", "--set", "halted", "--reason", "drill")
    assert halted.code == 0, halted.err
    assert "trading state HALTED: drill" in halted.out
    refused = await campaigns(stack, "trading-state", "--set", "PAUSED")
    assert refused.code != 0 and "PAUSED" in refused.err
    plan = await stack.client.submit(signal(Pattern.SPRING))
    assert plan.rejection_code == "TRADING_HALTED"
    lifted = await campaigns(stack, "trading-state", "--set", "ACTIVE")
    assert lifted.code == 0 and "trading state ACTIVE" in lifted.out
