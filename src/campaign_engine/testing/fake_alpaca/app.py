"""The fake Alpaca's HTTP and websocket endpoints, as Alpaca's trading API documents them:
key headers checked on every request, errors as ``{"code", "message"}``, rate-limit headers on
every answer, and ``/stream`` with its auth, listen and ``trade_updates`` messages (in binary
frames, as the paper stream sends them). Tests inject faults: a 429, an answer lost after the
order was placed, a 5xx."""

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from campaign_engine.testing.fake_alpaca.book import Book, Json, Refused
from campaign_engine.testing.local_server import alpaca_error

Handler = Callable[[Request], Awaitable[Response]]
RATE_LIMIT = 200
_DROP = object()  # a stream closed by the test (the network broke)
_CLOSE = object()


@dataclass
class Fault:
    method: str
    path: str
    kind: str  # "rate_limit" (answer 429), "lose_answer" (do it, answer 504), "fail" (503),
    # "before" (run ``hook`` first: the market moves while the request is on its way)
    retry_after: str | None = None
    hook: Callable[[], object] | None = None
    reset_in: int = 1  # a 429's X-RateLimit-Reset: this many whole seconds ahead


@dataclass
class Seen:
    method: str
    path: str
    query: str
    at: float


class AlpacaApp:
    def __init__(self, book: Book, key_id: str, secret: str) -> None:
        self.book = book
        self.key_id, self.secret = key_id, secret
        self.faults: deque[Fault] = deque()
        self.requests: list[Seen] = []
        self.listeners: set[asyncio.Queue[object]] = set()
        self.stream_connections = 0
        book.publish = self._publish
        self.app = Starlette(
            routes=[
                Route("/v2/orders", self._guarded(self._place), methods=["POST"]),
                Route("/v2/orders", self._guarded(self._list), methods=["GET"]),
                Route("/v2/orders:by_client_order_id", self._guarded(self._by_client_id)),
                Route("/v2/orders/{order_id}", self._guarded(self._order)),
                Route("/v2/orders/{order_id}", self._guarded(self._cancel), methods=["DELETE"]),
                Route("/v2/positions/{symbol}", self._guarded(self._position)),
                Route("/v2/account", self._guarded(self._account)),
                Route("/v2/account/activities/{kind}", self._guarded(self._activities)),
                WebSocketRoute("/stream", self._stream),
            ]
        )

    # --- HTTP --------------------------------------------------------------------------------

    def _guarded(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            path, method = request.url.path, request.method
            self.requests.append(Seen(method, path, request.url.query, time.monotonic()))
            if (
                request.headers.get("APCA-API-KEY-ID") != self.key_id
                or request.headers.get("APCA-API-SECRET-KEY") != self.secret
            ):
                return alpaca_error(401, 40110000, "request is not authorized")
            fault = self._fault_for(method, path)
            if fault is not None and fault.kind == "rate_limit":
                return self._rate_limited(fault)
            if fault is not None and fault.kind == "fail":
                return alpaca_error(503, 50300000, "service unavailable")
            if fault is not None and fault.hook is not None:
                fault.hook()
            try:
                response = await handler(request)
            except Refused as refused:
                response = alpaca_error(refused.status, refused.code, refused.message)
            if fault is not None and fault.kind == "lose_answer":
                return alpaca_error(
                    504, 50400000, "gateway timeout"
                )  # done, but the answer is lost
            response.headers.update(self._limit_headers(remaining=RATE_LIMIT - 1))
            return response

        return guarded

    def _fault_for(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and path.startswith(fault.path):
                self.faults.remove(fault)
                return fault
        return None

    def _rate_limited(self, fault: Fault) -> Response:
        response = alpaca_error(429, 42910000, "rate limit exceeded")
        response.headers.update(self._limit_headers(remaining=0, reset_in=fault.reset_in))
        if fault.retry_after is not None:
            response.headers["Retry-After"] = fault.retry_after
        return response

    def _limit_headers(self, remaining: int, reset_in: int = 1) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(time.time()) + reset_in),
        }

    async def _place(self, request: Request) -> Response:
        body = json.loads(await request.body())
        return _json(self.book.place(body if isinstance(body, dict) else {}))

    async def _list(self, request: Request) -> Response:
        if request.query_params.get("status", "open") != "open":
            return alpaca_error(422, 40010001, "only status=open is served here")
        return _json(self.book.open_orders(request.query_params.get("symbols")))

    async def _by_client_id(self, request: Request) -> Response:
        return _json(self.book.order_by_client_id(request.query_params.get("client_order_id", "")))

    async def _order(self, request: Request) -> Response:
        return _json(self.book.order(request.path_params["order_id"]))

    async def _cancel(self, request: Request) -> Response:
        self.book.cancel(request.path_params["order_id"])
        return Response(status_code=204)

    async def _position(self, request: Request) -> Response:
        return _json(self.book.position(request.path_params["symbol"]))

    async def _account(self, request: Request) -> Response:
        power = str(self.book.buying_power)
        return _json(
            {
                "id": "9b1c3b2e-5f0a-4c5e-9a55-3f3f8a1d2b7c",
                "account_number": "PA3FAKE0001",
                "status": "ACTIVE",
                "currency": "USD",
                "buying_power": power,
                "cash": power,
                "equity": power,
                "portfolio_value": power,
                "pattern_day_trader": False,
                "trading_blocked": False,
                "transfers_blocked": False,
                "account_blocked": False,
                "shorting_enabled": False,
                "multiplier": "1",
                "created_at": "2024-01-02T15:00:00Z",
            }
        )

    async def _activities(self, request: Request) -> Response:
        if request.path_params["kind"] != "FILL":
            raise Refused(422, 40010001, f"invalid activity type: {request.path_params['kind']}")
        query = request.query_params
        page = self.book.fill_activities(
            order_id=query.get("order_id"),
            direction=query.get("direction", "desc"),
            page_size=min(int(query.get("page_size", "100")), 100),
            page_token=query.get("page_token"),
        )
        return _json(page)

    # --- the stream --------------------------------------------------------------------------

    def _publish(self, data: Json) -> None:
        for queue in self.listeners:
            queue.put_nowait({"stream": "trade_updates", "data": data})

    async def _stream(self, socket: WebSocket) -> None:
        await socket.accept()
        self.stream_connections += 1
        queue: asyncio.Queue[object] = asyncio.Queue()
        try:
            auth = await _receive(socket)
            key, secret = auth.get("key"), auth.get("secret")
            if auth.get("action") == "authenticate":  # the older form
                data = auth.get("data") or {}
                key, secret = data.get("key_id"), data.get("secret_key")
            if auth.get("action") not in ("auth", "authenticate") or (key, secret) != (
                self.key_id,
                self.secret,
            ):
                refusal = {
                    "action": "authenticate",
                    "status": "unauthorized",
                    "message": "access key verification failed",
                }
                await _send(socket, "authorization", refusal)
                await socket.close(code=1008)
                return
            await _send(socket, "authorization", {"action": "authenticate", "status": "authorized"})
            listen = await _receive(socket)
            wanted = (listen.get("data") or {}).get("streams") or []
            streams = [s for s in wanted if s == "trade_updates"]
            await _send(socket, "listening", {"streams": streams})
            if streams:
                self.listeners.add(queue)
            reader = asyncio.create_task(_until_closed(socket, queue))
            try:
                await self._forward(socket, queue)
            finally:
                reader.cancel()
        except WebSocketDisconnect:
            pass
        finally:
            self.listeners.discard(queue)

    async def _forward(self, socket: WebSocket, queue: asyncio.Queue[object]) -> None:
        while True:
            message = await queue.get()
            if message is _DROP or message is _CLOSE:
                self.listeners.discard(queue)
                with contextlib.suppress(Exception):
                    await socket.close(code=1011 if message is _DROP else 1000)
                return
            await socket.send_bytes(json.dumps(message).encode())

    def drop_streams(self) -> None:
        for queue in list(self.listeners):
            queue.put_nowait(_DROP)

    def close_streams(self) -> None:
        for queue in list(self.listeners):
            queue.put_nowait(_CLOSE)


async def _until_closed(socket: WebSocket, queue: asyncio.Queue[object]) -> None:
    """Reads (and ignores) what the client sends until it goes away."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                break
    queue.put_nowait(_CLOSE)


async def _receive(socket: WebSocket) -> Json:
    message = await asyncio.wait_for(socket.receive(), timeout=10)
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect()
    raw = message.get("text") or message.get("bytes") or b"{}"
    parsed = json.loads(raw)
    return parsed if isinstance(parsed, dict) else {}


async def _send(socket: WebSocket, stream: str, data: Json) -> None:
    await socket.send_bytes(json.dumps({"stream": stream, "data": data}).encode())


def _json(content: Any) -> Response:
    return Response(json.dumps(content, default=_default), media_type="application/json")


def _default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)
