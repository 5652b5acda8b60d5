"""The ``trade_updates`` stream: what happens to our orders at Alpaca, pushed to the campaign
that placed each one (``OrderUpdates``) as soon as Alpaca says it.

One websocket per worker process (``wss://.../stream``): authenticate, listen to
``trade_updates``, then turn each event into a ``BrokerOrder``. Only events that change what a
campaign books are delivered: a fill or partial fill (with that execution as a ``Fill``, its
id as ``wire`` derives it) and the end of an order (filled, cancelled, expired, rejected, with
every fill of the order known). The rest (new, accepted, pending_cancel...) are not sent:
each delivery is a workflow signal, kept in its history.

Alpaca does not replay what happened while the socket was down. The listener reconnects with
a capped exponential back-off, and nothing is lost for good: a campaign with an order working
asks the broker (``get_order``) at least every poll interval, and books each fill once by id.
"""

import asyncio
import json
import logging
from decimal import Decimal
from typing import Any

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from campaign_engine.brokers.alpaca.broker import AlpacaBroker
from campaign_engine.brokers.alpaca.config import AlpacaConfig
from campaign_engine.brokers.alpaca.wire import (
    TradeUpdate,
    broker_order,
    campaign_of,
    fill_from_update,
    loads,
    our_status,
)
from campaign_engine.brokers.protocol import OrderUpdates
from campaign_engine.domain.orders import BrokerOrder, Fill
from campaign_engine.runtime.background import BackgroundLoop
from campaign_engine.runtime.backoff import Backoff, Retry

log = structlog.get_logger("campaign_engine.brokers.alpaca.stream")

# The websocket library logs every frame at debug level, the auth frame with the secret too:
# its logger here never goes below info, whatever the process's level.
_SOCKET_LOG = logging.getLogger("campaign_engine.brokers.alpaca.websocket")
_SOCKET_LOG.setLevel(logging.INFO)

TRADE_UPDATES = "trade_updates"
FILL_EVENTS = frozenset({"fill", "partial_fill"})


class StreamRefused(Exception):
    """Alpaca refused the stream's authentication or the listen request."""


class TradeUpdatesListener(BackgroundLoop):
    """Runs while entered (``async with``): connects, listens, delivers, reconnects.
    ``listening`` is set while the stream is live."""

    def __init__(
        self,
        config: AlpacaConfig,
        broker: AlpacaBroker,
        sink: OrderUpdates,
        *,
        first_backoff: float = 0.5,
        max_backoff: float = 30.0,
        handshake_timeout: float = 10.0,
    ) -> None:
        super().__init__("alpaca-trade-updates")
        self._config = config
        self._broker = broker
        self._sink = sink
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._handshake_timeout = handshake_timeout
        self._fills: dict[str, dict[str, Fill]] = {}  # fills seen of orders still working
        self.listening = asyncio.Event()
        self.connections = 0

    async def _run(self) -> None:
        retry = Retry(
            "alpaca trade updates",
            log,
            loop="alpaca_stream",
            # Decorrelated: never sooner than ``first_backoff``, spread above it.
            backoff=Backoff(
                start=self._first_backoff, cap=self._max_backoff, jitter="decorrelated"
            ),
        )
        while True:
            try:
                async with connect(
                    self._config.stream_url,
                    open_timeout=self._handshake_timeout,
                    logger=_SOCKET_LOG,
                ) as socket:
                    await self._subscribe(socket)
                    self.connections += 1
                    self.listening.set()
                    log.info("alpaca_stream_listening", url=self._config.stream_url)
                    retry.succeeded()
                    async for message in socket:
                        await self._on_message(message)
                pause = retry.failed(ConnectionError("the stream was closed by Alpaca"))
            except StreamRefused as refused:
                log.error("alpaca_stream_refused", reason=str(refused))
                retry.failed(refused)
                pause = self._max_backoff  # wrong keys do not get better by hammering
            except (OSError, TimeoutError, WebSocketException, ValueError) as error:
                pause = retry.failed(error)
            except Exception as error:  # whatever it was, the listener lives on
                log.error("alpaca_stream_error", error=f"{type(error).__name__}: {error}")
                pause = retry.failed(error)
            finally:
                self.listening.clear()
            await asyncio.sleep(pause)

    async def _subscribe(self, socket: ClientConnection) -> None:
        auth = {
            "action": "auth",
            "key": self._config.key_id,
            "secret": self._config.secret_key.get_secret_value(),
        }
        await socket.send(json.dumps(auth))
        data = await self._reply(socket, "authorization")
        if data.get("status") != "authorized":
            raise StreamRefused(str(data.get("message") or data.get("status")))
        await socket.send(json.dumps({"action": "listen", "data": {"streams": [TRADE_UPDATES]}}))
        data = await self._reply(socket, "listening")
        if TRADE_UPDATES not in data.get("streams", ()):
            raise StreamRefused(f"not listening to {TRADE_UPDATES}: {data}")

    async def _reply(self, socket: ClientConnection, stream: str) -> dict[str, Any]:
        """The ``data`` of the next message on ``stream`` (Alpaca answers on a named one)."""
        async with asyncio.timeout(self._handshake_timeout):
            while True:
                message = loads(await socket.recv())
                if isinstance(message, dict) and message.get("stream") == stream:
                    data = message.get("data")
                    return data if isinstance(data, dict) else {}

    async def _on_message(self, raw: str | bytes) -> None:
        """One message; a bad one, or a delivery that fails, is logged and skipped (the
        campaign's own poll books what it said)."""
        try:
            # JSON in a binary frame (as the paper stream sends it) or a text frame.
            message = loads(raw)
            if not isinstance(message, dict) or message.get("stream") != TRADE_UPDATES:
                return
            update = TradeUpdate.model_validate(message["data"])
            campaign_id = campaign_of(update.order.client_order_id)
            if campaign_id is None:  # placed by hand, or by another program on the account
                log.info("alpaca_update_not_ours", client_order_id=update.order.client_order_id)
                return
            report = await self.report(update)
            if report is not None:
                await self._sink.deliver(campaign_id, report)
        except Exception as error:
            log.error("alpaca_update_not_delivered", error=f"{type(error).__name__}: {error}")

    async def report(self, update: TradeUpdate) -> BrokerOrder | None:
        """What the event tells a campaign, or None when it tells nothing new. An order's
        end carries every fill of the order, read from Alpaca when this process missed some
        (it started, or the socket was down, after they happened)."""
        order = update.order
        known = self._fills.setdefault(order.client_order_id, {})
        fill = fill_from_update(update) if update.event in FILL_EVENTS else None
        if fill is not None:
            known[fill.fill_id] = fill
        status = our_status(order)
        if not status.is_final:
            if fill is None:
                return None
            return broker_order(order, (fill,))
        del self._fills[order.client_order_id]
        if sum((f.quantity for f in known.values()), Decimal(0)) < order.filled_qty:
            for missed in await self._broker.fills_of(order):
                known.setdefault(missed.fill_id, missed)
        ordered = sorted(known.values(), key=lambda f: _cumulative(f.fill_id))
        return broker_order(order, tuple(ordered))


def _cumulative(fill_id: str) -> Decimal:
    """The cumulative quantity a ``wire.fill_id`` ends with: fills in the order they came."""
    return Decimal(fill_id.rsplit(":", 1)[-1])
