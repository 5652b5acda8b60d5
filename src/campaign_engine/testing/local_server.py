"""What the local stand-ins of outside services share: an ASGI app served by uvicorn on a free
port in the test's own event loop, and Alpaca's error body."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import uvicorn
from starlette.responses import Response
from starlette.types import ASGIApp


@asynccontextmanager
async def served(app: ASGIApp, before_stop: Callable[[], None]) -> AsyncIterator[int]:
    """``app`` on 127.0.0.1 at the port yielded; ``before_stop`` (closing its websockets, which
    would hold the graceful stop) runs before the server stops."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Answers go out as written (uvicorn writes head and body apart; with Nagle's algorithm
    # each answer would wait ~40 ms for the client's delayed ACK). Accepted sockets inherit it.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind(("127.0.0.1", 0))
    port: int = listener.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        before_stop()
        server.should_exit = True
        await task
        listener.close()


def alpaca_error(status: int, code: int, message: str) -> Response:
    """Alpaca's error answer: ``{"code": ..., "message": ...}``."""
    return Response(
        json.dumps({"code": code, "message": message}),
        status_code=status,
        media_type="application/json",
    )
