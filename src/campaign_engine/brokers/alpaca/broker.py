"""The Alpaca broker: the engine's orders as Alpaca orders, keyed by our client order id.

What Alpaca does that shapes this:

- A client order id is taken once, for good (even by an order that was cancelled), and a
  second POST with it is refused ``422 {"code": 40010001, "message": "client_order_id must
  be unique"}``. A submit retried after an answer was lost (a timeout, a 504, the activity
  retried) meets that refusal: it means "already placed", so the order is looked up by its
  client order id and returned (checked to be the same order). The refusal is known by its
  code and message, whatever 4xx status carries it (the status is not what Alpaca documents
  for it, and a gateway in front may answer 400 or 409).
- A refusal of the order itself (403 insufficient buying power, 422 invalid quantity...) is
  the broker's answer, returned as ``REJECTED`` with Alpaca's message; only failing to get an
  answer raises (``AlpacaUnavailable``), so that the activity retries.
- An order's ``filled_qty``/``filled_avg_price`` cannot be booked per fill: the fills come
  from the account's FILL activities of the order (see ``wire`` for their ids).
- Alpaca refuses a sell that could trade against an open buy on the symbol in the account
  (403, 40310000, "potential wash trade detected. use complex orders"), a buy whose cancel is
  still ``pending_cancel`` included: ``blocking_buys`` names them, so that an exit waits for
  them (``brokers/wash_trade.py``).
"""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import structlog

from campaign_engine.brokers.alpaca.config import AlpacaConfig
from campaign_engine.brokers.alpaca.transport import AlpacaHttp, AlpacaRefusal, AlpacaUnavailable
from campaign_engine.brokers.alpaca.wire import (
    AlpacaOrder,
    AlpacaPosition,
    FillActivity,
    broker_order,
    fill_from_activity,
    our_status,
)
from campaign_engine.brokers.protocol import UnknownBrokerOrder
from campaign_engine.brokers.wash_trade import could_trade_against
from campaign_engine.domain.orders import BrokerOrder, Fill, Order
from campaign_engine.domain.vocabulary import OrderSide, OrderStatus, OrderType

log = structlog.get_logger("campaign_engine.brokers.alpaca")

NOT_UNIQUE = 40010001  # also Alpaca's code for other invalid input: the message tells them apart
ACTIVITY_PAGE = 100


class AlpacaBroker:
    """``Broker`` on an Alpaca account (paper or live, by ``AlpacaConfig``). Use it as an
    async context manager, or ``aclose`` it, to close its connections."""

    def __init__(self, config: AlpacaConfig, *, http: AlpacaHttp | None = None) -> None:
        self._http = http or AlpacaHttp(config)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- Broker --------------------------------------------------------------------------

    async def submit(self, order: Order) -> BrokerOrder:
        try:
            answer = await self._http.request("POST", "/v2/orders", body=order_request(order))
        except AlpacaRefusal as refusal:
            if _already_placed(refusal):
                return await self._placed_before(order)
            log.warning(
                "alpaca_refused_order",
                client_order_id=order.client_order_id,
                status=refusal.status,
                code=refusal.code,
                message=refusal.message,
            )
            return _rejected(order.client_order_id, refusal.message)
        return await self.report(AlpacaOrder.model_validate(answer))

    async def cancel(self, client_order_id: str) -> BrokerOrder:
        found = await self._find(client_order_id)
        if our_status(found) is OrderStatus.OPEN:
            try:
                await self._http.request("DELETE", f"/v2/orders/{found.id}")
            except AlpacaRefusal as refusal:
                # 422 "order is not cancelable": it filled or ended meanwhile (a cancel races
                # fills); the order as it stands now says which.
                log.info(
                    "alpaca_cancel_refused",
                    client_order_id=client_order_id,
                    status=refusal.status,
                    message=refusal.message,
                )
            found = AlpacaOrder.model_validate(
                await self._http.request("GET", f"/v2/orders/{found.id}")
            )
        return await self.report(found)

    async def get_order(self, client_order_id: str) -> BrokerOrder:
        return await self.report(await self._find(client_order_id))

    async def fills(self, client_order_id: str) -> tuple[Fill, ...]:
        return (await self.get_order(client_order_id)).fills

    async def position(self, symbol: str) -> Decimal:
        try:
            answer = await self._http.request("GET", f"/v2/positions/{quote(symbol, safe='')}")
        except AlpacaRefusal as refusal:
            if refusal.status == 404:  # "position does not exist": none held
                return Decimal(0)
            raise
        position = AlpacaPosition.model_validate(answer)
        return -abs(position.qty) if position.side == "short" else position.qty

    async def blocking_buys(self, order: Order) -> tuple[str, ...]:
        if order.side is not OrderSide.SELL:
            return ()
        params = {"status": "open", "symbols": order.symbol, "direction": "asc", "limit": "500"}
        answer = await self._http.request("GET", "/v2/orders", params=params)
        found = [AlpacaOrder.model_validate(o) for o in answer or ()]
        return tuple(
            o.client_order_id
            for o in found
            if o.side == "buy"
            and o.symbol == order.symbol
            and could_trade_against(sell_limit=order.limit_price, buy_limit=o.limit_price)
        )

    # --- reading Alpaca ------------------------------------------------------------------

    async def report(self, order: AlpacaOrder) -> BrokerOrder:
        """The order as the engine books it, its fills read from the account's activities."""
        fills = await self.fills_of(order) if order.filled_qty > 0 else ()
        return broker_order(order, fills)

    async def fills_of(self, order: AlpacaOrder) -> tuple[Fill, ...]:
        """The order's executions, oldest first (FILL activities filtered by order id)."""
        activities: list[FillActivity] = []
        params = {"order_id": order.id, "direction": "asc", "page_size": str(ACTIVITY_PAGE)}
        while True:
            page = await self._http.request("GET", "/v2/account/activities/FILL", params=params)
            batch = [FillActivity.model_validate(a) for a in page or ()]
            activities += [a for a in batch if a.order_id == order.id]
            if len(batch) < ACTIVITY_PAGE:
                break
            params = {**params, "page_token": batch[-1].id}
        activities.sort(key=lambda a: a.cum_qty)
        return tuple(fill_from_activity(order.client_order_id, a) for a in activities)

    async def _find(self, client_order_id: str) -> AlpacaOrder:
        try:
            answer = await self._http.request(
                "GET", "/v2/orders:by_client_order_id", params={"client_order_id": client_order_id}
            )
        except AlpacaRefusal as refusal:
            if refusal.status == 404:
                raise UnknownBrokerOrder(f"no order {client_order_id} at Alpaca") from None
            raise
        return AlpacaOrder.model_validate(answer)

    async def _placed_before(self, order: Order) -> BrokerOrder:
        """The order an earlier submission of this client order id placed."""
        try:
            found = await self._find(order.client_order_id)
        except UnknownBrokerOrder:
            # Alpaca said the id is taken but has no order with it: ask again later.
            raise AlpacaUnavailable(
                f"client order id {order.client_order_id} is taken but not found"
            ) from None
        if not _same_order(found, order):
            log.error(
                "alpaca_client_order_id_taken",
                client_order_id=order.client_order_id,
                alpaca_order_id=found.id,
            )
            return _rejected(
                order.client_order_id,
                f"client order id already used at Alpaca by another order ({found.side} "
                f"{found.qty} {found.symbol}, id {found.id})",
            )
        log.info("alpaca_order_found_by_client_id", client_order_id=order.client_order_id)
        return await self.report(found)


def order_request(order: Order) -> dict[str, Any]:
    """The POST /v2/orders body. Quantities and prices go as strings (exact).

    A limit order is good till cancelled: the campaign decides when an entry has rested too
    long (and cancels it), not the broker's trading day. Alpaca takes whole cents above $1
    and 4 decimals below; a finer limit is rounded to the side that never pays more (a buy
    down, a sell up). Fractional quantities must be day orders at Alpaca."""
    body: dict[str, Any] = {
        "symbol": order.symbol,
        "qty": _text(order.quantity),
        "side": order.side.value.lower(),
        "type": order.order_type.value.lower(),
        "client_order_id": order.client_order_id,
    }
    whole = order.quantity == order.quantity.to_integral_value()
    limit = order.order_type is OrderType.LIMIT and order.limit_price is not None
    body["time_in_force"] = "gtc" if limit and whole else "day"
    if limit:
        assert order.limit_price is not None
        body["limit_price"] = _text(tick_rounded(order.limit_price, order.side))
    return body


def tick_rounded(price: Decimal, side: OrderSide) -> Decimal:
    tick = Decimal("0.01") if price >= 1 else Decimal("0.0001")
    rounding = ROUND_FLOOR if side is OrderSide.BUY else ROUND_CEILING
    return price.quantize(tick, rounding=rounding)


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _already_placed(refusal: AlpacaRefusal) -> bool:
    """Alpaca's "client_order_id must be unique", on any 4xx: its code and its words."""
    return (
        400 <= refusal.status < 500
        and refusal.code == NOT_UNIQUE
        and "client_order_id" in refusal.message
        and "unique" in refusal.message
    )


def _same_order(found: AlpacaOrder, order: Order) -> bool:
    return (
        found.symbol == order.symbol
        and found.side == order.side.value.lower()
        and found.qty == order.quantity
    )


def _rejected(client_order_id: str, reason: str) -> BrokerOrder:
    return BrokerOrder(
        client_order_id=client_order_id,
        status=OrderStatus.REJECTED,
        filled_quantity=Decimal(0),
        reason=reason,
    )
