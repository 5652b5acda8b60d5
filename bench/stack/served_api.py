"""The API served in the bench's own process over its stack, on a free port, with a client
for it: what the stack benches post to and read from."""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import httpx

from bench.scale.scale_stack import Stack
from campaign_engine.api import serve_api
from campaign_engine.client.campaign_client import CampaignClient


@contextlib.asynccontextmanager
async def served_api(stack_: Stack, client: CampaignClient) -> AsyncIterator[httpx.AsyncClient]:
    """Yields a client of the API once it answers ``/healthz``; stops the API after."""
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = asyncio.create_task(serve_api(stack_.settings(), client=client, sock=listening))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await http.get("/healthz")).status_code < 500:
                    break
            await asyncio.sleep(0.05)
        try:
            yield http
        finally:
            server.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await server
