"""The demo scenario played through the whole stack: a real uvicorn serving the REST API, the
worker, Temporal and PostgreSQL. Every campaign must end as the scenario says."""

import asyncio
import contextlib
import io
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from pydantic import SecretStr
from rich.console import Console

from campaign_engine.runtime.settings import Settings
from campaign_engine.scenarios import load_scenario
from campaign_engine.scenarios.play import DemoError, play, run_demo
from tests.support.harness import Stack

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
    # Played again on the same stack: new ranges on new dates, the same outcomes.
    again = await play(scenario, api_url=api_url, token=None, speed=SPEED, console=console)
    assert {s.campaign_id for s in again}.isdisjoint({s.campaign_id for s in summaries})
    assert [(s.status, s.entries) for s in again] == [(s.status, s.entries) for s in summaries]


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
