"""The stand-in's historical bars endpoints, as Alpaca's market data API documents them:
``GET /v2/stocks/bars`` (many symbols), ``GET /v2/stocks/{symbol}/bars`` (one) and
``GET /v1beta3/crypto/us/bars``; key headers checked, errors as ``{"code", "message"}``,
rate-limit headers on every answer, and a 429 when a test asks for one."""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from campaign_engine.testing.fake_alpaca_data.bars import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    BadParameter,
    History,
    bucket_of,
    parse_time,
    rfc3339,
)
from campaign_engine.testing.fake_alpaca_data.stream import Account
from campaign_engine.testing.local_server import alpaca_error

RATE_LIMIT = 200
_STOCK_FEEDS = ("iex", "sip", "delayed_sip", "otc", "boats")
_ADJUSTMENTS = ("raw", "split", "dividend", "all")


@dataclass
class RateLimit:
    path: str
    retry_after: str | None
    reset_in: int


@dataclass
class Query:
    path: str
    query: str


class BarsApi:
    def __init__(self, history: History, accounts: dict[str, Account]) -> None:
        self.history = history
        self.accounts = accounts
        self.rate_limits: list[RateLimit] = []
        self.requests: list[Query] = []

    async def stock_bars(self, request: Request) -> Response:
        return self._answer(request, symbols=None, crypto=False)

    async def stock_symbol_bars(self, request: Request) -> Response:
        return self._answer(request, symbols=[request.path_params["symbol"]], crypto=False)

    async def crypto_bars(self, request: Request) -> Response:
        if request.path_params["location"] != "us":
            return alpaca_error(404, 40410000, "not found")
        return self._answer(request, symbols=None, crypto=True)

    def _answer(self, request: Request, symbols: list[str] | None, crypto: bool) -> Response:
        path = request.url.path
        self.requests.append(Query(path, request.url.query))
        key = request.headers.get("APCA-API-KEY-ID")
        account = self.accounts.get(key or "")
        # Crypto data needs no key; a key that is given must still be right.
        if (key is not None or not crypto) and (
            account is None or account.secret != request.headers.get("APCA-API-SECRET-KEY")
        ):
            return alpaca_error(401, 40110000, "request is not authorized")
        for limit in self.rate_limits:
            if path.startswith(limit.path):
                self.rate_limits.remove(limit)
                return self._rate_limited(limit)
        try:
            body = self._page(request, symbols, crypto, account)
        except BadParameter as bad:
            return alpaca_error(422, 42210000, str(bad))
        except PermissionError as refused:
            return alpaca_error(403, 40310000, str(refused))
        response = Response(json.dumps(body, default=_json_default), media_type="application/json")
        response.headers.update(_limit_headers(remaining=RATE_LIMIT - 1))
        return response

    def _page(
        self, request: Request, symbols: list[str] | None, crypto: bool, account: Account | None
    ) -> dict[str, object]:
        query = request.query_params
        single = symbols is not None
        if symbols is None:
            symbols = [s for s in query.get("symbols", "").split(",") if s]
            if not symbols:
                raise BadParameter("missing symbols")
        span = bucket_of(query.get("timeframe", ""))
        end = parse_time(query["end"], "end") if "end" in query else datetime.now(UTC)
        start = (
            parse_time(query["start"], "start")
            if "start" in query
            else parse_time(end.date().isoformat(), "start")  # the start of the day
        )
        try:
            limit = int(query.get("limit", DEFAULT_LIMIT))
        except ValueError:
            raise BadParameter(f"invalid limit: {query.get('limit')}") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise BadParameter(f"invalid limit: {limit}")
        sort = query.get("sort", "asc")
        if sort not in ("asc", "desc"):
            raise BadParameter(f"invalid sort: {sort}")
        if query.get("adjustment", "raw") not in _ADJUSTMENTS:
            raise BadParameter(f"invalid adjustment: {query.get('adjustment')}")
        if not crypto:
            _check_feed(query.get("feed"), account)
        page, token = self.history.page(
            symbols, span, (start, end), limit, query.get("page_token"), sort == "desc"
        )
        if single:
            return {
                "bars": page.get(symbols[0], []),
                "symbol": symbols[0],
                "next_page_token": token,
            }
        return {"bars": page, "next_page_token": token}

    def _rate_limited(self, limit: RateLimit) -> Response:
        response = alpaca_error(429, 42910000, "rate limit exceeded")
        response.headers.update(_limit_headers(remaining=0, reset_in=limit.reset_in))
        if limit.retry_after is not None:
            response.headers["Retry-After"] = limit.retry_after
        return response


def _check_feed(feed: str | None, account: Account | None) -> None:
    if feed is not None and feed not in _STOCK_FEEDS:
        raise BadParameter(f"invalid feed: {feed}")
    if feed == "sip" and account is not None and "sip" not in account.feeds:
        raise PermissionError("subscription does not permit querying recent SIP data")


def _limit_headers(remaining: int, reset_in: int = 1) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(RATE_LIMIT),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(time.time()) + reset_in),
    }


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return rfc3339(value)
    raise TypeError(type(value).__name__)
