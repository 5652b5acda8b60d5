"""The stand-in's bars: minute bars per symbol, rolled up into the timeframe a request asks for,
and paged as Alpaca's historical bars endpoint pages them (sorted by symbol, then by time; the
``limit`` counts bars across every symbol of the page)."""

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

Json = dict[str, Any]

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
# Alpaca's daily bars open at midnight New York time, whatever the UTC offset that day.
_NEW_YORK = ZoneInfo("America/New_York")
_TIMEFRAME = re.compile(r"^(\d+)(Min|T|Hour|H|Day|D)$")


class BadParameter(ValueError):
    """A request parameter Alpaca would refuse (answered 422 with this message)."""


@dataclass(frozen=True)
class Bar:
    symbol: str
    t: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    trades: int = 1
    vwap: float | None = None

    def wire(self) -> Json:
        """The bar as the REST endpoints write it (no ``T``/``S``: the symbol is the key)."""
        vwap = self.vwap if self.vwap is not None else (self.high + self.low + self.close) / 3
        return {
            "t": self.t,
            "o": self.open,
            "h": self.high,
            "l": self.low,
            "c": self.close,
            "v": self.volume,
            "n": self.trades,
            "vw": vwap,
        }

    def message(self, kind: str) -> Json:
        """The bar as the stream sends it: ``T`` is ``b``, ``u`` (updated) or ``d`` (daily)."""
        return {"T": kind, "S": self.symbol, **self.wire()}


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str, name: str) -> datetime:
    """RFC-3339 (``Z`` or an offset) or a bare date, as the endpoint accepts them."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), _NEW_YORK)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter(f"invalid {name}: {text}") from None
    if moment.tzinfo is None:  # alpaca-py sends naive datetimes meaning UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def bucket_of(timeframe: str) -> timedelta:
    """The span of one bar of ``timeframe`` (``1Min`` .. ``59Min``, ``1Hour`` .. ``23Hour``,
    ``1Day``); anything else is refused."""
    match = _TIMEFRAME.match(timeframe)
    if match is None:
        raise BadParameter(f"invalid timeframe: {timeframe}")
    amount, unit = int(match.group(1)), match.group(2)
    if unit in ("Min", "T") and 1 <= amount <= 59:
        return timedelta(minutes=amount)
    if unit in ("Hour", "H") and 1 <= amount <= 23:
        return timedelta(hours=amount)
    if unit in ("Day", "D") and amount == 1:
        return timedelta(days=1)
    raise BadParameter(f"invalid timeframe: {timeframe}")


def _bucket_start(moment: datetime, span: timedelta) -> datetime:
    if span == timedelta(days=1):
        local = moment.astimezone(_NEW_YORK)
        return datetime.combine(local.date(), datetime.min.time(), _NEW_YORK).astimezone(UTC)
    seconds = int(span.total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def roll_up(minutes: Iterable[Bar], span: timedelta) -> list[Bar]:
    """Minute bars rolled into bars of ``span`` (open of the first, close of the last, the
    extremes, summed volume and trades, volume-weighted vwap), ascending."""
    ordered = sorted(minutes, key=lambda bar: bar.t)
    if span == timedelta(minutes=1):
        return ordered
    rolled: list[Bar] = []
    for bar in ordered:
        start = _bucket_start(bar.t, span)
        if not rolled or rolled[-1].t != start:
            rolled.append(replace(bar, t=start, vwap=bar.wire()["vw"]))
            continue
        last = rolled[-1]
        volume = last.volume + bar.volume
        weighted = (last.wire()["vw"] * last.volume + bar.wire()["vw"] * bar.volume) / (volume or 1)
        rolled[-1] = replace(
            last,
            high=max(last.high, bar.high),
            low=min(last.low, bar.low),
            close=bar.close,
            volume=volume,
            trades=last.trades + bar.trades,
            vwap=weighted,
        )
    return rolled


class History:
    """Minute bars by symbol and time; a bar recorded again at the same time replaces it (an
    updated bar corrects history, as Alpaca's does)."""

    def __init__(self) -> None:
        self._bars: dict[str, dict[datetime, Bar]] = {}

    def record(self, bar: Bar) -> None:
        self._bars.setdefault(bar.symbol, {})[bar.t] = bar

    def bars(self, symbol: str) -> list[Bar]:
        return sorted(self._bars.get(symbol, {}).values(), key=lambda bar: bar.t)

    def page(
        self,
        symbols: list[str],
        span: timedelta,
        window: tuple[datetime, datetime],
        limit: int,
        page_token: str | None,
        descending: bool = False,
    ) -> tuple[dict[str, list[Json]], str | None]:
        """One page: at most ``limit`` bars in all, symbols in alphabetical order, each
        symbol's bars by time; the token names the first bar of the next page."""
        start, end = window
        ordered: list[Bar] = []
        for symbol in sorted(set(symbols)):
            rolled = [b for b in roll_up(self.bars(symbol), span) if start <= b.t <= end]
            ordered.extend(reversed(rolled) if descending else rolled)
        first = 0
        if page_token is not None:
            wanted = _untoken(page_token)
            keys = [(bar.symbol, bar.t) for bar in ordered]
            if wanted not in keys:
                raise BadParameter("invalid page token")
            first = keys.index(wanted)
        chosen = ordered[first : first + limit]
        rest = ordered[first + limit :]
        page: dict[str, list[Json]] = {}
        for bar in chosen:
            page.setdefault(bar.symbol, []).append(bar.wire())
        return page, (_token(rest[0]) if rest else None)


def _token(bar: Bar) -> str:
    raw = f"{bar.symbol}|{rfc3339(bar.t)}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def _untoken(token: str) -> tuple[str, datetime]:
    try:
        symbol, moment = base64.urlsafe_b64decode(token.encode()).decode().split("|", 1)
        return symbol, parse_time(moment, "page token")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadParameter("invalid page token") from None
