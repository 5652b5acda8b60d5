"""The REST API served by ``serve_api`` (a real uvicorn) in the test's event loop, over the
test's stack or parts given instead, and an httpx client talking to it."""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.api import serve_api
from campaign_engine.api.sockets import listen
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.domain.market import EntrySignal
from campaign_engine.runtime.settings import Settings

V1 = "/api/v1"
CAMPAIGN = "AAPL-2024-10-15"  # the worked story's campaign (campaign_engine.testing.builders)
UNKNOWN = "NOPE-2024-01-01"


@contextlib.asynccontextmanager
async def api_client(
    settings: Settings,
    client: CampaignClient | None = None,
    engine: AsyncEngine | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """``serve_api`` on a free port; what is not given it connects from ``settings``.
    Cancelling it is how its owner (the dev stack) stops it. The socket is of protocol 0, as
    socket.create_server makes it: serve_api sets TCP_NODELAY on its connections anyway."""
    listening = socket.create_server(("127.0.0.1", 0))
    server = asyncio.create_task(serve_api(settings, client=client, engine=engine, sock=listening))
    try:
        async with _talking_to(listening, server) as http:
            yield http
    finally:
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server


@contextlib.asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Any ASGI app under a plain uvicorn, its lifespan included."""
    listening = listen("127.0.0.1", 0)  # TCP_NODELAY on what it accepts, like serve_api
    config = uvicorn.Config(app, log_config=None, log_level="warning", lifespan="on")
    uvicorn_server = uvicorn.Server(config)
    server = asyncio.create_task(uvicorn_server.serve(sockets=[listening]))
    try:
        async with _talking_to(listening, server) as http:
            yield http
    finally:
        # A graceful stop: the lifespan's shutdown releases what it connected.
        uvicorn_server.should_exit = True
        await server


@contextlib.asynccontextmanager
async def _talking_to(
    listening: socket.socket, server: "asyncio.Task[None]"
) -> AsyncIterator[httpx.AsyncClient]:
    port = listening.getsockname()[1]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        # The socket listens already; the first answer means the app has started.
        probe = asyncio.create_task(http.get("/openapi.json"))
        await asyncio.wait({server, probe}, return_when=asyncio.FIRST_COMPLETED)
        if server.done():
            probe.cancel()
            server.result()  # raises what stopped it
            raise AssertionError("the API stopped before it answered")
        assert (await probe).status_code == 200
        yield http


def body(signal: EntrySignal) -> dict[str, Any]:
    return signal.model_dump(mode="json")


def tick_now(price: str, seconds: float = 0.0, symbol: str = "AAPL") -> dict[str, str]:
    """A tick stamped now: later than every signal of the builders (market time 2024)."""
    as_of = datetime.now(UTC) + timedelta(seconds=seconds)
    return {"symbol": symbol, "as_of": as_of.isoformat(), "price": price}


def dec(value: Any) -> Decimal:
    assert isinstance(value, str), f"{value!r} is not a decimal string"
    return Decimal(value)


async def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON of an answer that must have ``status``."""
    assert response.status_code == status, response.text
    return response.json()


def locs(response: httpx.Response) -> list[list[Any]]:
    """The locations of a 422's errors."""
    assert response.status_code == 422, response.text
    return [e["loc"] for e in response.json()["detail"]]


def pct(amount: Decimal, equity: Decimal) -> Decimal:
    """Risk as a % of equity, rounded up to 8 places like every risk figure."""
    return (amount * 100 / equity).quantize(Decimal("0.00000001"), rounding=ROUND_CEILING)


async def submit(api: httpx.AsyncClient, entry: EntrySignal) -> dict[str, Any]:
    plan: dict[str, Any] = await ok(await api.post(f"{V1}/signals", json=body(entry)))
    return plan
