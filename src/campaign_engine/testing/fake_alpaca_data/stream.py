"""The stand-in's market-data websocket (``/v2/{feed}``, ``/v1beta3/crypto/us``), as Alpaca's
"WebSocket Stream" page documents it: the ``connected`` greeting, auth by headers or by
message within the auth timeout, subscribe and unsubscribe acknowledged with the whole
subscription, every control message alone in its array, data batched, and the documented
error codes. JSON text frames, or msgpack binary frames when the client connects with
``Content-Type: application/msgpack`` (as alpaca-py does)."""

import asyncio
import contextlib
import importlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from campaign_engine.testing.fake_alpaca_data.bars import Json, rfc3339

STOCK_CHANNELS = (
    "trades",
    "quotes",
    "bars",
    "updatedBars",
    "dailyBars",
    "statuses",
    "lulds",
    "corrections",
    "cancelErrors",
)
CRYPTO_CHANNELS = ("trades", "quotes", "orderbooks", "bars", "updatedBars", "dailyBars")
# Alpaca subscribes trade corrections and cancel errors along with trades; they are not asked for.
_FOLLOW_TRADES = ("corrections", "cancelErrors")
_CHANNEL_OF = {"b": "bars", "u": "updatedBars", "d": "dailyBars"}
ERRORS = {
    400: "invalid syntax",
    401: "not authenticated",
    402: "auth failed",
    403: "already authenticated",
    404: "auth timeout",
    405: "symbol limit exceeded",
    406: "connection limit exceeded",
    409: "insufficient subscription",
    410: "invalid subscribe action for this feed",
}
_CLOSE, _DROP = object(), object()


@dataclass
class Account:
    secret: str
    feeds: frozenset[str]
    symbol_limit: int | None = None


@dataclass
class Connection:
    id: int
    path: str
    packed: bool  # msgpack frames, not JSON
    key: str | None = None
    subscriptions: dict[str, list[str]] = field(default_factory=dict)
    outbox: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    closing: bool = False

    @property
    def crypto(self) -> bool:
        return self.path.startswith("/v1beta3/crypto")

    @property
    def channels(self) -> tuple[str, ...]:
        return CRYPTO_CHANNELS if self.crypto else STOCK_CHANNELS

    def wants(self, message: Json) -> bool:
        channel = _CHANNEL_OF.get(str(message.get("T")))
        symbol = str(message.get("S"))
        if self.key is None or channel is None or ("/" in symbol) != self.crypto:
            return False
        subscribed = self.subscriptions.get(channel, [])
        return symbol in subscribed or "*" in subscribed


class Streams:
    """Every live stream connection, and what the tests read back about them."""

    def __init__(self, accounts: dict[str, Account], auth_timeout: float) -> None:
        self.accounts = accounts
        self.auth_timeout = auth_timeout
        self.live: dict[int, Connection] = {}
        self.connects = 0
        self.auths = 0
        self.received: list[tuple[int, Json]] = []
        self.reject_next_auth = False
        self._ids = itertools.count(1)

    # --- what the tests do ---------------------------------------------------------------

    def push(self, messages: list[Json]) -> None:
        """Each connection gets, in one array, the messages it is subscribed to."""
        for connection in self.live.values():
            wanted = [message for message in messages if connection.wants(message)]
            if wanted:
                connection.outbox.put_nowait(wanted)

    def drop(self) -> None:
        for connection in list(self.live.values()):
            connection.outbox.put_nowait(_DROP)

    def close_all(self) -> None:
        for connection in list(self.live.values()):
            connection.outbox.put_nowait(_CLOSE)

    # --- the endpoint --------------------------------------------------------------------

    async def serve(self, socket: WebSocket) -> None:
        packed = "msgpack" in socket.headers.get("content-type", "")
        connection = Connection(next(self._ids), socket.url.path, packed)
        await socket.accept()
        self.connects += 1
        self.live[connection.id] = connection
        writer = asyncio.create_task(_write(socket, connection))
        try:
            _say(connection, {"T": "success", "msg": "connected"})
            key = socket.headers.get("APCA-API-KEY-ID")
            if key is not None:
                self._authenticate(connection, key, socket.headers.get("APCA-API-SECRET-KEY"))
            await self._read(socket, connection)
        finally:
            self.live.pop(connection.id, None)
            if connection.closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(writer, timeout=5)
            writer.cancel()

    async def _read(self, socket: WebSocket, connection: Connection) -> None:
        deadline = asyncio.get_running_loop().time() + self.auth_timeout
        while not connection.closing:
            wait = None
            if connection.key is None:
                wait = max(0.0, deadline - asyncio.get_running_loop().time())
            try:
                frame = await asyncio.wait_for(socket.receive(), timeout=wait)
            except TimeoutError:
                _fail(connection, 404, close=True)
                return
            except (WebSocketDisconnect, RuntimeError):
                return
            if frame["type"] == "websocket.disconnect":
                return
            self._handle(connection, _decode(frame, connection.packed))

    def _handle(self, connection: Connection, message: object) -> None:
        if not isinstance(message, dict):
            _fail(connection, 400)
            return
        self.received.append((connection.id, message))
        action = message.get("action")
        if action == "auth":
            if connection.key is not None:
                _fail(connection, 403)
            else:
                self._authenticate(connection, message.get("key"), message.get("secret"))
        elif action in ("subscribe", "unsubscribe"):
            if connection.key is None:
                _fail(connection, 401)
            else:
                self._subscribe(connection, message, adding=action == "subscribe")
        else:
            _fail(connection, 400)

    def _authenticate(self, connection: Connection, key: object, secret: object) -> None:
        self.auths += 1
        account = self.accounts.get(key) if isinstance(key, str) else None
        if self.reject_next_auth or account is None or account.secret != secret:
            self.reject_next_auth = False
            _fail(connection, 402, close=True)
            return
        assert isinstance(key, str)
        feed = connection.path.rsplit("/", 1)[-1]
        if not connection.crypto and feed != "test" and feed not in account.feeds:
            _fail(connection, 409, close=True)
            return
        if any(
            other.key == key and other.path == connection.path and other is not connection
            for other in self.live.values()
        ):
            _fail(connection, 406, close=True)
            return
        connection.key = key
        connection.subscriptions = {channel: [] for channel in connection.channels}
        _say(connection, {"T": "success", "msg": "authenticated"})

    def _subscribe(self, connection: Connection, message: Json, adding: bool) -> None:
        asked = {k: v for k, v in message.items() if k not in ("action", *_FOLLOW_TRADES)}
        if set(asked) - set(connection.channels):
            _fail(connection, 410)
            return
        if any(
            not isinstance(v, list) or not all(isinstance(s, str) for s in v)
            for v in asked.values()
        ):
            _fail(connection, 400)
            return
        wanted = {channel: list(symbols) for channel, symbols in connection.subscriptions.items()}
        for channel, symbols in asked.items():
            changed = [channel, *_FOLLOW_TRADES] if channel == "trades" else [channel]
            for name in (c for c in changed if c in wanted):
                current = wanted[name]
                if adding:
                    current.extend(s for s in symbols if s not in current)
                else:
                    wanted[name] = [s for s in current if s not in symbols]
        account = self.accounts[connection.key or ""]
        counted = sum(len(v) for k, v in wanted.items() if k not in _FOLLOW_TRADES)
        if adding and account.symbol_limit is not None and counted > account.symbol_limit:
            _fail(connection, 405)
            return
        connection.subscriptions = wanted
        _say(connection, {"T": "subscription", **wanted})


def _say(connection: Connection, message: Json) -> None:
    connection.outbox.put_nowait([message])  # control messages travel alone in their array


def _fail(connection: Connection, code: int, close: bool = False) -> None:
    _say(connection, {"T": "error", "code": code, "msg": ERRORS[code]})
    if close:
        connection.closing = True
        connection.outbox.put_nowait(_CLOSE)


async def _write(socket: WebSocket, connection: Connection) -> None:
    with contextlib.suppress(Exception):  # the client may be gone already
        while True:
            item = await connection.outbox.get()
            if item is _CLOSE or item is _DROP:
                # 1011: the server broke off; alpaca-py reconnects on any close but its own.
                await socket.close(code=1011 if item is _DROP else 1000)
                return
            assert isinstance(item, list)
            if connection.packed:
                await socket.send_bytes(_msgpack().packb([_stamped(m) for m in item]))
            else:
                await socket.send_text(json.dumps(item, default=_json_default))


def _decode(frame: Any, packed: bool) -> object:
    raw = frame.get("bytes") if frame.get("bytes") is not None else frame.get("text", "")
    try:
        if packed and isinstance(raw, bytes):
            return _msgpack().unpackb(raw)
        return json.loads(raw)
    except ValueError:
        return None  # answered 400 invalid syntax


def _stamped(message: Json) -> Json:
    """msgpack carries times as its Timestamp extension (alpaca-py calls ``to_datetime``)."""
    stamp = _msgpack().Timestamp.from_datetime
    return {k: stamp(v) if isinstance(v, datetime) else v for k, v in message.items()}


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return rfc3339(value)
    raise TypeError(type(value).__name__)


def _msgpack() -> Any:
    # msgpack comes with alpaca-py (a dev dependency); only msgpack clients need it.
    return importlib.import_module("msgpack")
