"""A local stand-in for Alpaca's market data API (the real-time websocket stream and the
historical bars endpoints), for tests of a price feed on a machine that cannot reach Alpaca.
What the market does (a bar closes, a bar is corrected, bars happen while a client is away, the
network breaks) the test drives through ``FakeAlpacaData``.

What it speaks, and where each piece was taken from:

- Stream URLs ``/v2/{feed}`` (``iex``, ``sip``, ``delayed_sip``, ``test``) and
  ``/v1beta3/crypto/us``; greeting ``[{"T":"success","msg":"connected"}]``; auth by the
  ``APCA-API-KEY-ID``/``APCA-API-SECRET-KEY`` headers at connect or by
  ``{"action":"auth","key","secret"}`` within 10 s, answered
  ``[{"T":"success","msg":"authenticated"}]``; errors ``[{"T":"error","code","msg"}]``:
  400 invalid syntax, 401 not authenticated, 402 auth failed (then closed), 403 already
  authenticated, 404 auth timeout (then closed), 405 symbol limit exceeded, 406 connection
  limit exceeded (one connection per key and endpoint; then closed), 409 insufficient
  subscription (a feed the key lacks; then closed), 410 invalid subscribe action for this
  feed. Control messages arrive alone in their array, data batched. -- docs.alpaca.markets
  "WebSocket Stream" (streaming-market-data).
- ``subscribe``/``unsubscribe`` acknowledged with the whole subscription: stocks ``trades,
  quotes, bars, updatedBars, dailyBars, statuses, lulds, corrections, cancelErrors``
  (corrections and cancel errors follow trades); crypto ``trades, quotes, orderbooks, bars,
  updatedBars, dailyBars``; ``*`` for every symbol. Bars ``{"T":"b"|"u"|"d","S","o","h","l",
  "c","v","t","n","vw"}``, ``t`` RFC-3339. -- "Real-time Stock Data"
  (real-time-stock-pricing-data) and "Real-time Crypto Data" (v1beta3).
- msgpack frames (times as msgpack Timestamps) when the client connects with
  ``Content-Type: application/msgpack``, JSON text frames otherwise -- the stream pages'
  "Encoding and Compression"; alpaca-py's stream client speaks only msgpack.
- ``GET /v2/stocks/bars``, ``GET /v2/stocks/{symbol}/bars``, ``GET /v1beta3/crypto/us/bars``:
  ``symbols, timeframe ({n}Min, {n}Hour, 1Day), start, end, limit (default 1000, at most
  10000, counted across all symbols of a page), page_token, sort, feed, adjustment``;
  ``{"bars":{symbol:[{"t","o","h","l","c","v","n","vw"}]},"next_page_token"}``, sorted by
  symbol then time; 401 ``{"code","message"}`` for bad keys, 403 for SIP without the
  subscription, 422 for a bad parameter, 429 with ``X-RateLimit-*`` (and ``Retry-After``)
  headers. -- "Historical Stock Data" / the market data API reference (stockbars,
  cryptobars). Crypto needs no key, as documented.

What it does not speak: trade, quote, orderbook, status and LULD payloads (those
subscriptions are acknowledged, nothing is sent on them), news, options, corporate-action
adjustments (``adjustment`` is accepted, bars come back as recorded), weekly and monthly
timeframes, ``asof``/``currency``, 407 slow client and 500, compression (RFC 7692)."""

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from campaign_engine.testing.fake_alpaca_data.bars import Bar, History, Json
from campaign_engine.testing.fake_alpaca_data.rest import BarsApi, Query, RateLimit
from campaign_engine.testing.fake_alpaca_data.stream import Account, Streams
from campaign_engine.testing.local_server import served

KEY_ID = "PKDATAKEY0000000000"
SECRET = "data-secret-never-logged"  # noqa: S105 - the stand-in's own, not a credential

__all__ = ["KEY_ID", "SECRET", "Bar", "FakeAlpacaData", "serving"]


class FakeAlpacaData:
    def __init__(
        self,
        key_id: str = KEY_ID,
        secret: str = SECRET,
        feeds: Iterable[str] = ("iex", "sip"),
        symbol_limit: int | None = None,
        auth_timeout: float = 10.0,  # Alpaca's documented window to authenticate
    ) -> None:
        self.accounts: dict[str, Account] = {}
        self.add_key(key_id, secret, feeds, symbol_limit)
        self.history = History()
        self.streams = Streams(self.accounts, auth_timeout)
        self.bars_api = BarsApi(self.history, self.accounts)
        self.app = Starlette(
            routes=[
                Route("/v2/stocks/bars", self.bars_api.stock_bars),
                Route("/v2/stocks/{symbol}/bars", self.bars_api.stock_symbol_bars),
                Route("/v1beta3/crypto/{location}/bars", self.bars_api.crypto_bars),
                WebSocketRoute("/v2/{feed}", self.streams.serve),
                WebSocketRoute("/v1beta3/crypto/us", self.streams.serve),
            ]
        )
        self.base_url = ""  # http://127.0.0.1:port, once served
        self.stream_url = ""  # ws://127.0.0.1:port

    def add_key(
        self,
        key_id: str,
        secret: str,
        feeds: Iterable[str] = ("iex", "sip"),
        symbol_limit: int | None = None,
    ) -> None:
        """An account: the stock feeds its subscription includes, and how many symbols one
        connection may subscribe to (``None``: no limit)."""
        self.accounts[key_id] = Account(secret, frozenset(feeds), symbol_limit)

    def stock_stream_url(self, feed: str = "iex") -> str:
        return f"{self.stream_url}/v2/{feed}"

    @property
    def crypto_stream_url(self) -> str:
        return f"{self.stream_url}/v1beta3/crypto/us"

    # --- what the market does ------------------------------------------------------------

    def publish_bar(
        self,
        symbol: str,
        t: datetime,
        *,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
        trades: int = 1,
        vwap: float | None = None,
        kind: str = "b",
    ) -> Bar:
        """A minute bar closes: kept in history and sent to the streams subscribed to it.
        Symbols with a ``/`` (``BTC/USD``) are crypto, the rest stocks. ``kind`` ``u``: a late
        trade corrects a bar already sent (an ``updatedBars`` message; it replaces the bar in
        history)."""
        bar = Bar(symbol, t, open, high, low, close, volume, trades, vwap)
        self.publish_bars([bar], kind)
        return bar

    def publish_bars(self, bars: Iterable[Bar], kind: str = "b") -> None:
        """Several bars at once: each connection gets the ones it wants in one array, as
        Alpaca batches them. ``kind`` ``u`` sends them as updated bars, ``d`` as daily."""
        listed = list(bars)
        for bar in listed:
            if kind != "d":
                self.history.record(bar)
        self.streams.push([bar.message(kind) for bar in listed])

    def record_history(self, symbol: str, bars: Iterable[Bar]) -> None:
        """Bars into history only (they happened while no client was listening)."""
        for bar in bars:
            self.history.record(replace(bar, symbol=symbol))

    # --- faults --------------------------------------------------------------------------

    def drop_connections(self) -> None:
        """Every stream socket is cut (closed 1011): clients should reconnect."""
        self.streams.drop()

    def reject_next_auth(self) -> None:
        """The next authentication fails with 402 whatever the keys."""
        self.streams.reject_next_auth = True

    def rate_limit_next(self, path: str, retry_after: str | None = "1", reset_in: int = 1) -> None:
        """The next request to a path starting with ``path`` is answered 429."""
        self.bars_api.rate_limits.append(RateLimit(path, retry_after, reset_in))

    # --- read-backs ----------------------------------------------------------------------

    @property
    def subscriptions(self) -> list[dict[str, list[str]]]:
        """What each live, authenticated stream connection is subscribed to."""
        return [
            {k: list(v) for k, v in c.subscriptions.items()}
            for c in self.streams.live.values()
            if c.key is not None
        ]

    @property
    def connections(self) -> int:
        """Stream connections accepted so far (reconnects included)."""
        return self.streams.connects

    @property
    def auths(self) -> int:
        return self.streams.auths

    @property
    def received(self) -> list[Json]:
        """Every message a client sent on a stream, in order."""
        return [message for _, message in self.streams.received]

    @property
    def requests(self) -> list[Query]:
        return self.bars_api.requests


@asynccontextmanager
async def serving(fake: FakeAlpacaData) -> AsyncIterator[FakeAlpacaData]:
    """Serves ``fake`` on a free local port (``fake.base_url``, ``fake.stream_url``)."""
    async with served(fake.app, fake.streams.close_all) as port:
        fake.base_url = f"http://127.0.0.1:{port}"
        fake.stream_url = f"ws://127.0.0.1:{port}"
        yield fake
