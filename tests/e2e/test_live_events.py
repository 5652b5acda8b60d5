"""``/api/v1/ws`` over the whole stack (a real uvicorn, the worker, Temporal, PostgreSQL): the
audit trail pushed as it is written, a socket that comes back gets exactly what it missed,
the token guards it, and a second API process serves the same stream."""

import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import signal
from tests.e2e.api_fixtures import CAMPAIGN, V1, api_client, ok, submit, tick_now
from tests.support.harness import Stack, eventually, settled
from tests.support.worker_process import worker_environment

Message = dict[str, Any]


def _ws_url(http: httpx.AsyncClient, query: str = "") -> str:
    base = str(http.base_url).replace("http://", "ws://").rstrip("/")
    return f"{base}{V1}/ws{query}"


async def _receive(ws: ClientConnection, timeout: float = 20.0) -> Message:
    message: Message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def _events_until(ws: ClientConnection, wanted: int, seen: list[Message]) -> list[Message]:
    """Read until ``seen`` holds ``wanted`` events; every other message too, returned."""
    others: list[Message] = []
    while len(seen) < wanted:
        message = await _receive(ws)
        (seen if message["type"] == "event" else others).append(message)
    return others


async def _rest_of_run(ws: ClientConnection) -> list[Message]:
    """After a run of events: the campaigns it touched, up to the portfolio that ends it."""
    rest = [await _receive(ws)]
    while rest[-1]["type"] != "portfolio":
        rest.append(await _receive(ws))
    return rest


async def _quiet(ws: ClientConnection, seconds: float = 1.5) -> list[Message]:
    """Events that still come within ``seconds`` (there should be none)."""
    extra: list[Message] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                message = await _receive(ws, seconds)
                if message["type"] == "event":
                    extra.append(message)
    return extra


async def _trail(api: httpx.AsyncClient) -> list[str]:
    events = await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}/events"))
    return [e["event_id"] for e in events["events"]]


async def _grew(api: httpx.AsyncClient, length: int) -> bool:
    return len(await _trail(api)) > length


async def _still_trail(api: httpx.AsyncClient) -> list[str]:
    """The trail once it has stopped growing for a second (exits fill after the prices that
    triggered them, in later versions)."""
    trail = await _trail(api)
    while True:
        await asyncio.sleep(1.0)
        again = await _trail(api)
        if again == trail:
            return trail
        trail = again


async def test_events_are_pushed_and_a_resumed_socket_misses_nothing(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    async with connect(_ws_url(api)) as ws:
        hello = await _receive(ws)
        assert hello["type"] == "hello" and hello["cursor"] == "0.0"  # an empty trail
        await submit(api, signal(Pattern.SPRING))
        await settled(stack, CAMPAIGN, 2)  # approved, filled
        first: list[Message] = []
        others = await _events_until(ws, len(await _trail(api)), first)
        others += await _rest_of_run(ws)
        assert [e["event_id"] for e in first] == await _trail(api)
        assert [e["data"]["kind"] for e in first] == ["CampaignCreated", "PositionOpened"]
        assert first[0]["event_type"] == "CampaignCreated"
        cursors = [e["cursor"] for e in first]
        assert len(set(cursors)) == len(cursors)
        # Beside the events: the campaign as GET /campaigns/{id} shows it, and the portfolio.
        campaigns = [m["campaign"] for m in others if m["type"] == "campaign"]
        assert campaigns and campaigns[-1]["campaign_id"] == CAMPAIGN
        assert campaigns[-1]["status"] == "ACTIVE" and campaigns[-1]["version"] == 2
        assert campaigns[-1]["metrics"]["open_positions_count"] == 1
        portfolio = [m["portfolio"] for m in others if m["type"] == "portfolio"][-1]
        assert portfolio["heat_pct"] == "0.4995"

    # Away while the campaign moves on: an SOS, then prices through both targets' levels.
    await submit(api, signal(Pattern.SOS))
    await settled(stack, CAMPAIGN, 4)
    await ok(await api.post(f"{V1}/prices", json=tick_now("156.00")), 202)
    await settled(stack, CAMPAIGN, 5)
    missed = (await _still_trail(api))[len(first) :]
    assert len(missed) >= 3

    async with connect(_ws_url(api, f"?after={first[-1]['event_id']}")) as ws:
        assert (await _receive(ws))["cursor"] == first[-1]["cursor"]
        caught_up: list[Message] = []
        await _events_until(ws, len(missed), caught_up)
        assert [e["event_id"] for e in caught_up] == missed  # in order, none twice
        # ... and then live, from where it is.
        await ok(await api.post(f"{V1}/prices", json=tick_now("159.00", 1)), 202)
        before = len(first) + len(missed)
        await eventually(lambda: _grew(api, before))
        now = await _still_trail(api)
        await _events_until(ws, len(now) - len(first), caught_up)
        assert [e["event_id"] for e in first + caught_up] == now
        assert await _quiet(ws) == []

    # By cursor as well: from the first event's, everything after it.
    async with connect(_ws_url(api, f"?cursor={first[0]['cursor']}")) as ws:
        await _receive(ws)
        again: list[Message] = []
        await _events_until(ws, len(now) - 1, again)
        assert [e["event_id"] for e in again] == now[1:]


async def _message_of(ws: ClientConnection, kind: str, events: list[Message]) -> Message:
    """The next message of ``kind``; the events read meanwhile go to ``events``."""
    while True:
        message = await _receive(ws, 10.0)
        if message["type"] == "event":
            events.append(message)
        if message["type"] == kind:
            return message


async def test_a_price_that_crosses_nothing_moves_the_marks(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    await submit(api, signal(Pattern.SPRING))  # 333 shares at 148.50, stop 147.00
    await settled(stack, CAMPAIGN, 2)
    # From the last event of the trail on: the hub may not have read it yet.
    last = (await _still_trail(api))[-1]
    async with connect(_ws_url(api, f"?after={quote(last, safe='')}")) as ws:
        await _receive(ws)  # hello
        events: list[Message] = []
        await ok(await api.post(f"{V1}/prices", json=tick_now("149.00")), 202)
        mark = await _message_of(ws, "mark", events)
        assert mark == {
            "type": "mark",
            "campaign_id": CAMPAIGN,
            "version": 2,
            "last_price": "149",
            "as_of": mark["as_of"],
            "unrealized_pnl": "166.5",  # 333 x 0.50
            "total_pnl": "166.5",
            "r_multiple": "0.3333",  # over the 499.50 risked
        }
        portfolio = (await _message_of(ws, "portfolio", events))["portfolio"]
        assert (portfolio["unrealized_pnl"], portfolio["marked_equity"]) == (
            "166.5",
            "100166.5",
        )
        # The REST API says the same: the list's mark, the portfolio, the campaign itself.
        listed = await ok(await api.get(f"{V1}/campaigns"))
        assert listed["data"][0]["mark"] == {k: v for k, v in mark.items() if k != "type"}
        rest = await ok(await api.get(f"{V1}/portfolio"))
        assert rest["marked_equity"] == "100166.5"
        detail = await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}"))
        assert detail["metrics"]["total_pnl"] == "166.5" and detail["version"] == 2
        # A price for another symbol marks nothing of this campaign.
        await ok(await api.post(f"{V1}/prices", json=tick_now("10.00", symbol="MSFT")), 202)
        await ok(await api.post(f"{V1}/prices", json=tick_now("148.00", 1)), 202)
        second = await _message_of(ws, "mark", events)
        assert (second["last_price"], second["total_pnl"]) == ("148", "-166.5")
        assert events == []  # nothing was crossed: no event, the marks moved alone


async def test_a_price_event_id_resumes_percent_encoded_and_a_cursor_as_it_is(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    await submit(api, signal(Pattern.SPRING))
    await settled(stack, CAMPAIGN, 2)
    await ok(await api.post(f"{V1}/prices", json=tick_now("156.00")), 202)  # through targets
    await settled(stack, CAMPAIGN, 3)
    trail = await _still_trail(api)
    priced = next(e for e in trail if ":price:" in e)
    assert {"+", ":", "@"} <= set(priced)  # ...+00:00: not safe in a URL as it is
    # Sent raw, the + arrives as a space: an id the trail does not hold, and the reason says
    # what to do.
    async with connect(_ws_url(api, f"?after={priced}")) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await _receive(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
    assert "percent-encode" in closed.value.rcvd.reason
    # Percent-encoded, it resumes right after that event; its cursor needs no encoding.
    after = trail[trail.index(priced) + 1 :]
    async with connect(_ws_url(api, f"?after={quote(priced, safe='')}")) as ws:
        hello = await _receive(ws)
        assert re.fullmatch(r"[0-9]+\.[0-9]+", hello["cursor"])
        resumed: list[Message] = []
        await _events_until(ws, len(after), resumed)
    assert [e["event_id"] for e in resumed] == after
    async with connect(_ws_url(api, f"?cursor={hello['cursor']}")) as ws:
        assert (await _receive(ws))["cursor"] == hello["cursor"]


async def test_an_unknown_place_is_refused_with_its_reason(api: httpx.AsyncClient) -> None:
    for query, code in (("?after=no-such-event", 4404), ("?cursor=yesterday", 4400)):
        async with connect(_ws_url(api, query)) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await _receive(ws)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == code


async def test_the_token_guards_the_socket(stack: Stack) -> None:
    settings = stack.settings.model_copy(update={"api_token": SecretStr("s3cret-token")})
    async with api_client(settings, stack.client, stack.engine) as http:
        for query in ("", "?token=wrong"):
            async with connect(_ws_url(http, query)) as ws:
                with pytest.raises(ConnectionClosed) as closed:
                    await _receive(ws)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        async with connect(_ws_url(http, "?token=s3cret-token")) as ws:
            assert (await _receive(ws))["type"] == "hello"
        # A browser cannot set headers on a WebSocket: the token goes as a subprotocol.
        protocols: Any = ["campaigns.v1", "bearer.s3cret-token"]
        async with connect(_ws_url(http), subprotocols=protocols) as ws:
            assert ws.subprotocol == "campaigns.v1"
            assert (await _receive(ws))["type"] == "hello"


_CLI = (sys.executable, "-c", "from campaign_engine.cli import main; main()")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def _api_process(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [*_CLI, "api", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.asynccontextmanager
async def _second_api(
    temporal: WorkflowEnvironment, stack: Stack, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    assert stack.settings.database_url is not None
    env = worker_environment(temporal, stack.settings.database_url, stack.settings.task_queue)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    port = _free_port()
    log = tmp_path / "api.log"
    with _api_process(env, port, log):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for _ in range(240):
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.25)
            else:
                raise AssertionError(f"the second API never answered:\n{log.read_text()}")
            yield http


async def test_two_api_processes_push_the_same_events(
    temporal: WorkflowEnvironment, stack: Stack, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    async with (
        _second_api(temporal, stack, tmp_path) as other,
        connect(_ws_url(api)) as here,
        connect(_ws_url(other)) as there,
    ):
        await _receive(here)
        await _receive(there)
        await submit(other, signal(Pattern.SPRING))
        await settled(stack, CAMPAIGN, 2)
        trail = await _trail(api)
        seen_here: list[Message] = []
        seen_there: list[Message] = []
        await _events_until(here, len(trail), seen_here)
        await _events_until(there, len(trail), seen_there)
        assert [e["event_id"] for e in seen_here] == trail
        assert [e["event_id"] for e in seen_there] == trail
