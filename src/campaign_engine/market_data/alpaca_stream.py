"""One of Alpaca's market-data streams (the stocks' feed, or crypto's), kept subscribed to the
minute bars of the symbols wanted, every bar handed on once, in market-time order per symbol,
whatever the connection does.

Each connection: the welcome, ``auth`` (the keys, never logged), then ``subscribe``; from the
subscription's acknowledgement on, live bars are held back while the bars missed since the
last one taken are read from history (``AlpacaHistory``, every page), then handed on, history
first. A bar is handed on only when it is newer (its end, in market time) than the last one
its symbol gave: a bar seen both live and in history, or again after a reconnect, goes once.
Symbols wanted later are subscribed on the open connection (and caught up the same way);
symbols no longer wanted are unsubscribed.

Errors are Alpaca's documented codes (``alpaca_wire.ErrorKind``). Each is logged once per
outage with what to do, counted (``errors`` by kind), and answered with a reconnect after the
shared backoff, capped at a minute: wrong keys, a plan without the feed, a second connection
elsewhere or too many symbols never make a crash loop, and the feed resumes by itself once the
account is put right.
"""

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from campaign_engine.domain.market import PriceUpdate
from campaign_engine.market_data.alpaca_config import AlpacaDataConfig
from campaign_engine.market_data.alpaca_history import AlpacaHistory, HistoryError
from campaign_engine.market_data.alpaca_wire import (
    ErrorKind,
    StreamBatch,
    StreamError,
    read_stream,
    subscribe_message,
)
from campaign_engine.runtime import price_metrics
from campaign_engine.runtime.background import BackgroundLoop
from campaign_engine.runtime.backoff import Backoff, Retry

log = structlog.get_logger("campaign_engine.market_data")

Take = Callable[[list[PriceUpdate]], Awaitable[None]]
LastTaken = Callable[[Collection[str]], Awaitable[dict[str, datetime]]]

_WHAT_TO_DO = {
    ErrorKind.CREDENTIALS: "check ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY",
    ErrorKind.SUBSCRIPTION: "the account's plan does not include this feed: ALPACA_DATA_FEED=iex",
    ErrorKind.CONNECTION_LIMIT: "another process holds the account's one connection to this feed",
    ErrorKind.SYMBOL_LIMIT: "more symbols than the account's plan allows",
}


def to_do(kind: ErrorKind) -> str:
    """What an operator does about an error of this kind (the feed retries regardless)."""
    return _WHAT_TO_DO.get(kind, "reconnecting")


class StreamFailed(Exception):
    def __init__(self, error: StreamError) -> None:
        super().__init__(f"{error.code} {error.message}")
        self.error = error


class AlpacaBarStream(BackgroundLoop):
    def __init__(
        self,
        config: AlpacaDataConfig,
        *,
        crypto: bool,
        take: Take,
        last_taken: LastTaken,
        history: AlpacaHistory | None = None,
    ) -> None:
        super().__init__("alpaca-crypto-bars" if crypto else "alpaca-stock-bars")
        self._config = config
        self._url = config.stream_for(crypto)
        self._take = take
        self._last_taken = last_taken
        self._history = history or AlpacaHistory(config)
        self._wanted: set[str] = set()
        self._subscribed: set[str] = set()
        self._changed = asyncio.Event()
        self._last: dict[str, datetime] = {}  # per symbol, the end of the last bar handed on
        self._retry = Retry("alpaca_market_data", log, backoff=Backoff(start=1.0, cap=60.0))
        self.errors: Counter[ErrorKind] = Counter()
        self.bars_taken = 0
        self.bars_refused = 0
        self.corrections_ignored = 0
        self.connections = 0

    def want(self, symbols: Collection[str]) -> None:
        """Keep exactly ``symbols`` subscribed (those of the open campaigns)."""
        if set(symbols) != self._wanted:
            self._wanted = set(symbols)
            self._changed.set()

    async def _run(self) -> None:
        try:
            while not self.stopping:
                if not self._wanted:  # no symbol of this stream's kind: no connection
                    self._changed.clear()
                    await self._pause_until_changed()
                    continue
                try:
                    async with connect(self._url, max_size=None) as socket:
                        self.connections += 1
                        await self._session(socket)
                except StreamFailed as failed:
                    await self._pause(self._failed(failed.error))
                except (OSError, WebSocketException, HistoryError, TimeoutError) as error:
                    await self._pause(self._retry.failed(error))
        finally:
            await self._history.close()

    async def _pause_until_changed(self) -> None:
        waiting = asyncio.ensure_future(self._changed.wait())
        stopping = asyncio.ensure_future(self._pause(3600.0))
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        stopping.cancel()

    def _failed(self, error: StreamError) -> float:
        self.errors[error.kind] += 1
        price_metrics.MARKET_DATA_ERRORS.labels(error.kind.value).inc()
        if not self._retry.down:  # once per outage, with what to do
            log.error(
                "alpaca_market_data_refused",
                code=error.code,
                message=error.message,
                to_do=to_do(error.kind),
            )
        return self._retry.failed(StreamFailed(error))

    async def _session(self, socket: ClientConnection) -> None:
        await self._expect(socket, "connected")
        secret = self._config.secret_key.get_secret_value()
        await socket.send(_auth(self._config.key_id, secret))
        await self._expect(socket, "authenticated")
        self._subscribed = set()
        self._retry.succeeded()
        while True:
            await self._resubscribe(socket)
            self._changed.clear()
            reading = asyncio.ensure_future(socket.recv())
            changing = asyncio.ensure_future(self._changed.wait())
            done, _ = await asyncio.wait({reading, changing}, return_when=asyncio.FIRST_COMPLETED)
            changing.cancel()
            if reading in done:
                await self._hand_on(self._checked(read_stream(reading.result())))
            else:
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketException):
                    await reading

    async def _expect(self, socket: ClientConnection, success: str) -> None:
        async with asyncio.timeout(self._config.timeout_seconds):
            while success not in self._checked(read_stream(await socket.recv())).successes:
                pass

    def _checked(self, batch: StreamBatch) -> StreamBatch:
        if batch.errors:
            raise StreamFailed(batch.errors[0])
        return batch

    async def _resubscribe(self, socket: ClientConnection) -> None:
        """Subscribe what is newly wanted (caught up from history), drop what is not."""
        gone, new = self._subscribed - self._wanted, self._wanted - self._subscribed
        if gone:
            await socket.send(subscribe_message("unsubscribe", sorted(gone)))
            self._subscribed -= gone
        if not new:
            return
        await socket.send(subscribe_message("subscribe", sorted(new)))
        live: list[PriceUpdate] = []
        async with asyncio.timeout(self._config.timeout_seconds):
            while True:  # the bars of older symbols may come before the acknowledgement
                batch = self._checked(read_stream(await socket.recv()))
                live += batch.bars
                if batch.subscribed is not None:
                    break
        self._subscribed |= new
        await self._catch_up(sorted(new))
        await self._hand_on_bars(live)

    async def _catch_up(self, symbols: list[str]) -> None:
        """The bars of ``symbols`` since the last one taken, from history, page by page."""
        for symbol, at in (await self._last_taken(symbols)).items():
            self._last[symbol] = max(at, self._last.get(symbol, at))
        known = [s for s in symbols if s in self._last]
        if missing := sorted(set(symbols) - set(known)):  # never priced: nothing to fill
            log.info("alpaca_bars_from_now_on", symbols=missing)
        if not known:
            return
        async for page in self._history.pages(known, min(self._last[s] for s in known)):
            self.bars_refused += len(page.refused)
            price_metrics.MARKET_DATA_BARS.labels("refused").inc(len(page.refused))
            await self._hand_on_bars(page.bars)

    async def _hand_on(self, batch: StreamBatch) -> None:
        self.bars_refused += len(batch.refused)
        price_metrics.MARKET_DATA_BARS.labels("refused").inc(len(batch.refused))
        price_metrics.MARKET_DATA_BARS.labels("correction_ignored").inc(len(batch.updated))
        for refused in batch.refused:
            log.warning("alpaca_bar_refused", symbol=refused.symbol, reason=refused.reason)
        # A correction of a bar already handed on comes too late for market time: the
        # campaigns have decided on the bar as it was (the intake would refuse it as too old).
        self.corrections_ignored += len(batch.updated)
        await self._hand_on_bars(batch.bars)

    async def _hand_on_bars(self, bars: list[PriceUpdate]) -> None:
        """In market-time order per symbol, each newer than its symbol's last, once."""
        fresh = []
        for bar in sorted(bars, key=lambda b: (b.symbol, b.as_of)):
            last = self._last.get(bar.symbol)
            if bar.symbol in self._wanted and (last is None or bar.as_of > last):
                fresh.append(bar)
                self._last[bar.symbol] = bar.as_of
        if fresh:
            await self._take(fresh)
            self.bars_taken += len(fresh)
            price_metrics.MARKET_DATA_BARS.labels("taken").inc(len(fresh))


def _auth(key_id: str, secret: str) -> str:
    return json.dumps({"action": "auth", "key": key_id, "secret": secret})
