"""The fake Alpaca account's book: orders, executions (FILL activities), positions, in the
JSON shapes of Alpaca's trading API (money and quantities as strings), and the
``trade_updates`` events each change emits."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

D = Decimal
Json = dict[str, Any]
OPEN_STATUSES = frozenset({"new", "accepted", "pending_new", "partially_filled", "held"})


class Refused(Exception):
    """An answer with Alpaca's error shape ``{"code", "message"}``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _decimal(body: Json, name: str) -> Decimal | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        return D(str(value))
    except ArithmeticError:
        raise Refused(422, 40010001, f"invalid {name}") from None


@dataclass
class Book:
    buying_power: Decimal = field(default_factory=lambda: D("1000000"))
    orders: dict[str, Json] = field(default_factory=dict)  # by Alpaca's order id
    by_client_id: dict[str, str] = field(default_factory=dict)
    activities: list[Json] = field(default_factory=list)
    positions: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # qty, avg
    publish: Callable[[Json], None] = lambda event: None
    duplicate_status: int = 422  # the status a taken client order id is refused with
    # Alpaca's user protection: an order that could trade against an open order of the other
    # side on its symbol is refused (403, 40310000), a pending_cancel one included.
    wash_trade_rule: bool = True
    # None: a cancel takes effect at once; else it is pending_cancel until read this many
    # seconds after it was asked (Alpaca acknowledges first and confirms a moment later).
    cancel_confirm_after: float | None = None
    _cancels_asked: dict[str, float] = field(default_factory=dict)

    # --- orders ------------------------------------------------------------------------------

    def place(self, body: Json) -> Json:
        """POST /v2/orders, checked as Alpaca checks it."""
        client_order_id = str(body.get("client_order_id") or uuid.uuid4())
        if len(client_order_id) > 128:
            raise Refused(422, 40010001, "client_order_id must be no more than 128 characters")
        if client_order_id in self.by_client_id:
            raise Refused(self.duplicate_status, 40010001, "client_order_id must be unique")
        symbol, side, kind = body.get("symbol"), body.get("side"), body.get("type")
        tif = body.get("time_in_force")
        qty, limit = _decimal(body, "qty"), _decimal(body, "limit_price")
        if not symbol:
            raise Refused(422, 40010001, "symbol is required")
        if side not in ("buy", "sell"):
            raise Refused(422, 40010001, "invalid side")
        if kind not in ("market", "limit"):
            raise Refused(422, 40010001, "invalid order type")
        if tif not in ("day", "gtc", "opg", "cls", "ioc", "fok"):
            raise Refused(422, 40010001, "invalid time_in_force")
        if qty is None or qty <= 0:
            raise Refused(422, 40010001, "qty must be > 0")
        if kind == "limit" and limit is None:
            raise Refused(422, 40010001, "limit_price is required for limit orders")
        if limit is not None and -limit.as_tuple().exponent > (2 if limit >= 1 else 4):  # type: ignore[operator]
            raise Refused(
                422,
                42210000,
                f"invalid limit_price {limit}. sub-penny increment does not fulfill minimum "
                "pricing criteria",
            )
        if side == "buy" and qty * (limit or D(100)) > self.buying_power:
            raise Refused(403, 40310000, "insufficient buying power")
        if self.wash_trade_rule and self._could_wash(symbol, side, limit):
            raise Refused(403, 40310000, "potential wash trade detected. use complex orders")
        held = self.positions.get(symbol, (D(0), D(0)))[0]
        if side == "sell" and qty > held:
            raise Refused(
                403,
                40310000,
                f"insufficient qty available for order (requested: {_text(qty)}, "
                f"available: {_text(held)})",
            )
        now = _now()
        order: Json = {
            "id": str(uuid.uuid4()),
            "client_order_id": client_order_id,
            "created_at": now,
            "updated_at": now,
            "submitted_at": now,
            "filled_at": None,
            "expired_at": None,
            "canceled_at": None,
            "failed_at": None,
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, symbol)),
            "symbol": symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": _text(qty),
            "filled_qty": "0",
            "filled_avg_price": None,
            "order_class": "",
            "order_type": kind,
            "type": kind,
            "side": side,
            "position_intent": "buy_to_open" if side == "buy" else "sell_to_close",
            "time_in_force": tif,
            "limit_price": _text(limit) if limit is not None else None,
            "stop_price": None,
            "status": "new",
            "extended_hours": False,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
        }
        self.orders[order["id"]] = order
        self.by_client_id[client_order_id] = order["id"]
        self._emit("new", order)
        return order

    def order(self, order_id: str) -> Json:
        if order_id not in self.orders:
            raise Refused(404, 40410000, "order not found")
        return self._settled(self.orders[order_id])

    def order_by_client_id(self, client_order_id: str) -> Json:
        if client_order_id not in self.by_client_id:
            raise Refused(404, 40410000, f"order not found for {client_order_id}")
        return self.order(self.by_client_id[client_order_id])

    def open_orders(self, symbols: str | None) -> list[Json]:
        """GET /v2/orders?status=open: the orders not yet done, oldest first."""
        wanted = set(symbols.split(",")) if symbols else None
        return [
            order
            for order in (self._settled(o) for o in list(self.orders.values()))
            if order["status"] in OPEN_STATUSES | {"pending_cancel"}
            and (wanted is None or order["symbol"] in wanted)
        ]

    def cancel(self, order_id: str) -> None:
        order = self.order(order_id)
        if order["status"] not in OPEN_STATUSES:
            raise Refused(422, 42210000, "order is not cancelable")
        if self.cancel_confirm_after is None:
            self._end(order, "canceled", "canceled_at")
            return
        order["status"] = "pending_cancel"
        self._cancels_asked[order_id] = time.monotonic()
        self._emit("pending_cancel", order)

    def _settled(self, order: Json) -> Json:
        """A pending cancel asked long enough ago is done by the time the order is read."""
        asked = self._cancels_asked.get(order["id"])
        if order["status"] == "pending_cancel" and asked is not None:
            assert self.cancel_confirm_after is not None
            if time.monotonic() - asked >= self.cancel_confirm_after:
                del self._cancels_asked[order["id"]]
                self._end(order, "canceled", "canceled_at")
        return order

    def _could_wash(self, symbol: str, side: str, limit: Decimal | None) -> bool:
        """Whether an open order of the other side on ``symbol`` could execute against this
        one: either is a market order, or the sell's limit is at or below the buy's."""
        for other in self.open_orders(symbol):
            if other["side"] == side:
                continue
            theirs = D(other["limit_price"]) if other["limit_price"] is not None else None
            sell, buy = (limit, theirs) if side == "sell" else (theirs, limit)
            if sell is None or buy is None or sell <= buy:
                return True
        return False

    # --- what the market and the venue do (driven by tests) -----------------------------------

    def fill(self, client_order_id: str, qty: Decimal | None, price: Decimal | None) -> Json:
        """An execution of ``qty`` (default: the rest) at ``price`` (default: the limit)."""
        order = self.order_by_client_id(client_order_id)
        if order["status"] not in OPEN_STATUSES:
            raise ValueError(f"order {client_order_id} is {order['status']}")
        total, done = D(order["qty"]), D(order["filled_qty"])
        qty = qty if qty is not None else total - done
        price = price if price is not None else D(order["limit_price"] or "100")
        assert 0 < qty <= total - done, (qty, total, done)
        average = D(order["filled_avg_price"] or 0)
        cumulative = done + qty
        now = _now()
        order["filled_qty"] = _text(cumulative)
        order["filled_avg_price"] = _text((average * done + price * qty) / cumulative)
        order["status"] = "filled" if cumulative == total else "partially_filled"
        order["updated_at"] = now
        if cumulative == total:
            order["filled_at"] = now
        position_qty = self._book_position(order["symbol"], order["side"], qty, price)
        kind = "fill" if cumulative == total else "partial_fill"
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
        self.activities.append(
            {
                "activity_type": "FILL",
                "id": f"{stamp}::{uuid.uuid4()}",
                "cum_qty": _text(cumulative),
                "leaves_qty": _text(total - cumulative),
                "price": _text(price),
                "qty": _text(qty),
                "side": order["side"],
                "symbol": order["symbol"],
                "transaction_time": now,
                "order_id": order["id"],
                "type": kind,
            }
        )
        extra = {"price": _text(price), "qty": _text(qty), "position_qty": _text(position_qty)}
        self._emit(kind, order, extra | {"execution_id": str(uuid.uuid4()), "timestamp": now})
        return order

    def expire(self, client_order_id: str) -> None:
        self._end(self.order_by_client_id(client_order_id), "expired", "expired_at")

    def reject(self, client_order_id: str) -> None:
        self._end(self.order_by_client_id(client_order_id), "rejected", "failed_at")

    def _end(self, order: Json, status: str, stamp_field: str) -> None:
        now = _now()
        order["status"], order[stamp_field], order["updated_at"] = status, now, now
        self._emit(status, order, {"timestamp": now})

    def _book_position(self, symbol: str, side: str, qty: Decimal, price: Decimal) -> Decimal:
        held, average = self.positions.get(symbol, (D(0), D(0)))
        if side == "buy":
            average = (held * average + qty * price) / (held + qty)
            held += qty
        else:
            held -= qty
        if held:
            self.positions[symbol] = (held, average)
        else:
            self.positions.pop(symbol, None)
        return held

    def _emit(self, event: str, order: Json, extra: Json | None = None) -> None:
        self.publish({"event": event, "timestamp": _now(), "order": dict(order), **(extra or {})})

    # --- positions and activities ------------------------------------------------------------

    def position(self, symbol: str) -> Json:
        if symbol not in self.positions:
            raise Refused(404, 40410000, "position does not exist")
        qty, average = self.positions[symbol]
        return {
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, symbol)),
            "symbol": symbol,
            "exchange": "NASDAQ",
            "asset_class": "us_equity",
            "asset_marginable": True,
            "avg_entry_price": _text(average),
            "qty": _text(qty),
            "qty_available": _text(qty),
            "side": "long",
            "market_value": _text(qty * average),
            "cost_basis": _text(qty * average),
            "unrealized_pl": "0",
            "unrealized_plpc": "0",
            "current_price": _text(average),
        }

    def fill_activities(
        self, order_id: str | None, direction: str, page_size: int, page_token: str | None
    ) -> list[Json]:
        chosen = [a for a in self.activities if order_id is None or a["order_id"] == order_id]
        if direction != "asc":
            chosen.reverse()
        if page_token is not None:
            ids = [a["id"] for a in chosen]
            chosen = chosen[ids.index(page_token) + 1 :] if page_token in ids else []
        return chosen[:page_size]
