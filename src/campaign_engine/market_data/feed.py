"""Alpaca's minute bars for the symbols of the open campaigns, into the durable price intake,
from the one API process that delivers prices (``PriceDelivery``: it is entered while that
process leads, so the account keeps one connection per stream however many API processes
run).

Which symbols: those of the campaigns not ended, read every ``refresh`` seconds (a campaign
that opens subscribes its symbol within that; one whose symbol has no campaign left is
unsubscribed). Each bar goes through ``PriceIntake.append`` as a ``POST /prices`` would: the
bad-print screen, the charts and marks, the publisher's bars to the campaigns. Where a symbol's
bars resume from: the newest price the intake accepted for it (``price_bars``), so a restart,
a reconnect or a lead taken over fills exactly the gap from history.
"""

import contextlib
from collections.abc import Callable, Collection
from datetime import datetime

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.marks import newest_quotes
from campaign_engine.db.price_intake import PriceIntake
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.policy import Policy
from campaign_engine.market_data.alpaca_config import AlpacaDataConfig, is_crypto
from campaign_engine.market_data.alpaca_stream import AlpacaBarStream
from campaign_engine.runtime.background import BackgroundLoop
from campaign_engine.runtime.backoff import Retry
from campaign_engine.runtime.settings import Settings

log = structlog.get_logger("campaign_engine.market_data")

_OPEN_SYMBOLS = text(
    "SELECT DISTINCT symbol FROM campaigns WHERE status NOT IN ('COMPLETED', 'INVALIDATED')"
)


class AlpacaPriceFeed(BackgroundLoop):
    def __init__(
        self,
        config: AlpacaDataConfig,
        engine: AsyncEngine,
        intake: PriceIntake,
        appended: Callable[[], None],
        *,
        refresh: float = 2.0,
    ) -> None:
        super().__init__("alpaca-price-feed")
        self._engine = engine
        self._intake = intake
        self._appended = appended  # wakes the delivering process (PriceDelivery.appended)
        self._refresh = refresh
        self.streams = {
            crypto: AlpacaBarStream(
                config, crypto=crypto, take=self._take, last_taken=self._last_taken
            )
            for crypto in (False, True)
        }
        self._retry = Retry("database", log, loop="alpaca_price_feed")

    async def _run(self) -> None:
        async with contextlib.AsyncExitStack() as streams:  # left when the feed is
            for stream in self.streams.values():
                await streams.enter_async_context(stream)
            while not self.stopping:
                await self._want()
                await self._pause(self._refresh)

    async def _want(self) -> None:
        try:
            async with self._engine.connect() as conn:
                symbols = {row.symbol for row in await conn.execute(_OPEN_SYMBOLS)}
        except Exception as error:  # the database: the subscriptions stay as they are
            await self._pause(self._retry.failed(error))
            return
        self._retry.succeeded()
        for crypto, stream in self.streams.items():
            stream.want({s for s in symbols if is_crypto(s) is crypto})

    async def _take(self, bars: list[PriceUpdate]) -> None:
        appended = await self._intake.append(bars)
        self._appended()
        if appended.too_old or appended.held:
            log.info(
                "alpaca_bars_not_taken",
                too_old=appended.too_old,
                held=appended.held,
                bars=len(bars),
            )

    async def _last_taken(self, symbols: Collection[str]) -> dict[str, datetime]:
        async with self._engine.connect() as conn:
            quotes = await newest_quotes(conn, symbols)
        return {symbol: quote.as_of for symbol, quote in quotes.items()}


def feed_for(
    settings: Settings, engine: AsyncEngine, policy: Policy, appended: Callable[[], None]
) -> Callable[[], AlpacaPriceFeed] | None:
    """What the delivering process runs beside its publisher for ``PRICE_FEED`` (None:
    prices come through ``POST /prices`` only)."""
    if settings.price_feed != "alpaca":
        return None
    config = settings.alpaca_data_config()
    intake = PriceIntake(engine, band_pct=policy.bad_print_band_pct)
    return lambda: AlpacaPriceFeed(config, engine, intake, appended)
