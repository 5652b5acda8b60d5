"""Carrying out a committed campaign change in one activity: persist it, then reach the
broker. One activity instead of one per effect saves a workflow task and an activity task
per step, which is most of what a decision costs after it is made.

Orders go out in the sequence the broker requires. A broker with a wash-trade rule (Alpaca;
the simulated broker with ``SIM_WASH_TRADE_RULE``; see ``brokers/wash_trade.py``) refuses a
sell while a buy on its symbol that it could trade against is open in the account, and a buy
whose cancel was only acknowledged (``pending_cancel``) is still open. So before a sell is
placed, every such buy (this campaign's unfilled entry cancelled in the same change, or
another campaign's resting entry) is waited for until the broker confirms it cancelled or
filled: looked up again and again on the shared backoff, for at most ``SELL_WAIT_SECONDS``,
each wait logged (``exit_waits_for_open_buys``). Past that bound the sell is placed anyway: the
broker's refusal is booked and the exit retried by its campaign, as any refused exit is.
"""

import asyncio
import time
from collections.abc import Callable

import structlog
from temporalio import activity

from campaign_engine.activities.failures import is_permanent, refused
from campaign_engine.brokers.protocol import Broker, UnknownBrokerOrder
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.domain.orders import Order
from campaign_engine.domain.vocabulary import OrderSide
from campaign_engine.runtime import tracing
from campaign_engine.runtime.backoff import Backoff
from campaign_engine.runtime.observability import report_trading_state
from campaign_engine.runtime.worker_metrics import WorkerMetrics
from campaign_engine.temporal.messages import CARRY_OUT, BrokerOrder, CarriedOut, CarryOutRequest

log = structlog.get_logger("campaign_engine.effects")

SELL_WAIT_SECONDS = 5.0
"""How long a sell waits for the buys in its way: well inside the activity's 10 s timeout, and
long enough for a broker to confirm a cancel (Alpaca's take milliseconds to a second)."""


class EffectActivities:
    def __init__(
        self,
        repository: CampaignRepository,
        broker: Broker,
        *,
        metrics: WorkerMetrics | None = None,
        sell_wait_seconds: float = SELL_WAIT_SECONDS,
        backoff: Callable[[], Backoff] = lambda: Backoff(
            start=0.05, cap=1.0, jitter="decorrelated"
        ),
    ) -> None:
        self._repository = repository
        self._broker = broker
        self._metrics = metrics
        self._sell_wait = sell_wait_seconds
        self._backoff = backoff

    @activity.defn(name=CARRY_OUT)
    async def carry_out(self, request: CarryOutRequest) -> CarriedOut:
        """Idempotent end to end, so a retry after any step is safe: the save ignores what it
        already wrote, and the broker returns an order it already has by client order id."""
        try:
            with tracing.span("save", attributes={"revision": request.revision}):
                assessed = await self._repository.save(request)
        except Exception as error:
            if is_permanent(error):
                log.error(
                    "change_refused",
                    campaign_id=request.state.campaign_id,
                    revision=request.revision,
                    error=f"{type(error).__name__}: {error}",
                )
                raise refused(error, f"revision {request.revision} cannot be saved") from error
            raise
        if self._metrics is not None:
            self._metrics.saved(request.events, request.state)
        if assessed is not None:
            report_trading_state(
                assessed.state, assessed.change, campaign_id=request.state.campaign_id
            )
        cancelled: dict[str, BrokerOrder] = {}
        for client_order_id in request.cancellations:
            try:
                cancelled[client_order_id] = await self._broker.cancel(client_order_id)
            except UnknownBrokerOrder:  # never reached the broker: nothing to cancel
                log.warning("cancel_of_unknown_order", client_order_id=client_order_id)
        placed = []
        for order in request.orders:
            if order.side is OrderSide.SELL:
                await self._clear_the_way(order, cancelled)
            with tracing.span("broker submit", attributes=_described(order)):
                placed.append(await self._broker.submit(order))
        return CarriedOut(orders=tuple(placed), cancelled=tuple(cancelled.values()))

    async def _clear_the_way(self, sell: Order, cancelled: dict[str, BrokerOrder]) -> None:
        """Until no open buy the broker would refuse ``sell`` for is left, or the bound. Each
        is looked up again (a broker confirms a cancel it acknowledged as the order is read);
        the campaign's own cancelled entries go back with their latest answer, so it books
        the confirmed cancel now rather than at its next poll."""
        started = time.monotonic()
        backoff = self._backoff()
        while blocking := await self._broker.blocking_buys(sell):
            waited = time.monotonic() - started
            fields = {
                "client_order_id": sell.client_order_id,
                "symbol": sell.symbol,
                "open_buys": list(blocking),
                "waited_s": round(waited, 3),
            }
            if waited >= self._sell_wait:
                log.warning("exit_placed_beside_open_buys", **fields)
                return
            log.info("exit_waits_for_open_buys", **fields)
            await asyncio.sleep(min(backoff.next(), max(self._sell_wait - waited, 0.0)))
            for client_order_id in blocking:
                try:
                    answer = await self._broker.get_order(client_order_id)
                except UnknownBrokerOrder:
                    continue
                if client_order_id in cancelled:
                    cancelled[client_order_id] = answer


def _described(order: Order) -> dict[str, str]:
    """What a trace shows of an order: what it is for, never an account's detail."""
    return {
        "order.side": order.side.value,
        "order.purpose": order.purpose.value,
        "order.symbol": str(order.symbol),
    }
