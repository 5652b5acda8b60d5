"""Alpaca's market-data wire, read: the stream's JSON arrays (bars, updated bars, control and
error messages) and the historical bars' pages, as price updates.

A bar's ``t`` is when it opened; its close is the price at its end. The update is stamped at
the bar's end (``t`` + its length): that is when its close was the market's price, and a
campaign's market time must never see a price before it existed. A bar the engine's value
domain refuses (a low above its close, say) is returned as refused with the reason, never
raised: one bad bar does not stop a feed.

Numbers are read as decimals (``parse_float=Decimal``): a price is never a float here.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import ValidationError

from campaign_engine.domain.market import PriceUpdate

MINUTE = timedelta(minutes=1)


class ErrorKind(Enum):
    """What an error of the stream asks of the client (Alpaca's documented codes)."""

    CREDENTIALS = "credentials"  # 402 auth failed: the keys are wrong
    SUBSCRIPTION = "subscription"  # 409: the account's plan does not include this feed
    CONNECTION_LIMIT = "connection_limit"  # 406: another connection holds the account's one
    SYMBOL_LIMIT = "symbol_limit"  # 405: more symbols than the plan allows
    NOT_AUTHENTICATED = "not_authenticated"  # 401: a message before auth
    AUTH_TIMEOUT = "auth_timeout"  # 404: auth came too late
    SLOW_CLIENT = "slow_client"  # 407: the client did not keep up
    INVALID = "invalid"  # 400 invalid syntax and other requests the server refused
    SERVER = "server"  # 500 and whatever else


_KINDS = {
    400: ErrorKind.INVALID,
    401: ErrorKind.NOT_AUTHENTICATED,
    402: ErrorKind.CREDENTIALS,
    404: ErrorKind.AUTH_TIMEOUT,
    405: ErrorKind.SYMBOL_LIMIT,
    406: ErrorKind.CONNECTION_LIMIT,
    407: ErrorKind.SLOW_CLIENT,
    409: ErrorKind.SUBSCRIPTION,
    500: ErrorKind.SERVER,
}


@dataclass(frozen=True, slots=True)
class StreamError:
    code: int
    message: str

    @property
    def kind(self) -> ErrorKind:
        return _KINDS.get(self.code, ErrorKind.SERVER)


@dataclass(frozen=True, slots=True)
class RefusedBar:
    """A bar the value domain refused, with why (logged and counted by the feed)."""

    symbol: str
    raw: Mapping[str, Any]
    reason: str


@dataclass(slots=True)
class StreamBatch:
    """One frame of the stream: its bars in the order sent, and what else it said."""

    bars: list[PriceUpdate] = field(default_factory=list)
    updated: list[PriceUpdate] = field(default_factory=list)  # corrections of bars sent
    refused: list[RefusedBar] = field(default_factory=list)
    errors: list[StreamError] = field(default_factory=list)
    successes: list[str] = field(default_factory=list)  # "connected", "authenticated"
    subscribed: dict[str, list[str]] | None = None  # the acknowledged subscription, if any


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def bar_update(raw: Mapping[str, Any], symbol: str, length: timedelta = MINUTE) -> PriceUpdate:
    """One bar as a price update stamped at its end (ValidationError when refused)."""
    opened = datetime.fromisoformat(str(raw["t"]).replace("Z", "+00:00"))
    return PriceUpdate(
        symbol=symbol,
        as_of=opened + length,
        open=raw["o"],
        high=raw["h"],
        low=raw["l"],
        close=raw["c"],
    )


def _bar_or_refused(raw: Mapping[str, Any], symbol: str) -> PriceUpdate | RefusedBar:
    try:
        return bar_update(raw, symbol)
    except (ValidationError, KeyError, ValueError, TypeError) as error:
        return RefusedBar(symbol, raw, f"{type(error).__name__}: {str(error)[:200]}")


def read_stream(text: str | bytes) -> StreamBatch:
    """A frame: a JSON array of messages, each with its type in ``T``."""
    batch = StreamBatch()
    messages = loads(text)
    for message in messages if isinstance(messages, list) else [messages]:
        kind = message.get("T") if isinstance(message, dict) else None
        if kind in ("b", "u"):
            found = _bar_or_refused(message, str(message.get("S", "")))
            if isinstance(found, RefusedBar):
                batch.refused.append(found)
            else:
                (batch.bars if kind == "b" else batch.updated).append(found)
        elif kind == "error":
            batch.errors.append(StreamError(int(message.get("code", 0)), str(message.get("msg"))))
        elif kind == "success":
            batch.successes.append(str(message.get("msg")))
        elif kind == "subscription":
            batch.subscribed = {
                key: list(value) for key, value in message.items() if isinstance(value, list)
            }
    return batch


@dataclass(frozen=True, slots=True)
class HistoryPage:
    bars: list[PriceUpdate]  # by symbol, then time, as the page lists them
    refused: list[RefusedBar]
    next_page_token: str | None


def read_history(page: Mapping[str, Any], length: timedelta = MINUTE) -> HistoryPage:
    """A page of ``GET /v2/stocks/bars`` (or crypto's): ``{"bars": {symbol: [bar...]},
    "next_page_token": ...}``."""
    bars: list[PriceUpdate] = []
    refused: list[RefusedBar] = []
    listed = page.get("bars") or {}
    for symbol, raws in listed.items() if isinstance(listed, Mapping) else ():
        for raw in raws or ():
            try:
                bars.append(bar_update(raw, symbol, length))
            except (ValidationError, KeyError, ValueError, TypeError) as error:
                refused.append(RefusedBar(symbol, raw, f"{type(error).__name__}: {error}"[:200]))
    token = page.get("next_page_token")
    return HistoryPage(bars, refused, str(token) if token else None)


def subscribe_message(action: str, symbols: Sequence[str]) -> str:
    """``subscribe`` or ``unsubscribe`` the minute bars of ``symbols`` (not their later
    corrections, ``updatedBars``: a campaign has decided on a bar as it was)."""
    return json.dumps({"action": action, "bars": sorted(set(symbols))})
