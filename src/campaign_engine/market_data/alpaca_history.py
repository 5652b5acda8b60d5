"""The bars a feed missed, from Alpaca's historical bars endpoint: every page of them, in
order, for the symbols and the span asked (``GET /v2/stocks/bars``, crypto's
``/v1beta3/crypto/us/bars``).

Pages follow ``next_page_token`` until there is none. A 429 (the account's request budget) is
waited out as its ``Retry-After`` says (else the shared backoff); any other error is raised as
``HistoryError`` with Alpaca's words, for the feed to report and retry later."""

import asyncio
from collections.abc import AsyncIterator, Collection
from datetime import datetime

import httpx
import structlog

from campaign_engine.market_data.alpaca_config import HISTORY_PAGE, AlpacaDataConfig, is_crypto
from campaign_engine.market_data.alpaca_wire import HistoryPage, loads, read_history
from campaign_engine.runtime.backoff import Backoff

log = structlog.get_logger("campaign_engine.market_data")


class HistoryError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Alpaca's historical bars answered {status}: {message}")
        self.status = status


class AlpacaHistory:
    def __init__(self, config: AlpacaDataConfig, http: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._http = http or httpx.AsyncClient(
            base_url=config.data_url,
            headers=config.auth_headers(),
            timeout=config.timeout_seconds,
        )
        self.requests = 0

    async def close(self) -> None:
        await self._http.aclose()

    async def pages(
        self, symbols: Collection[str], start: datetime, end: datetime | None = None
    ) -> AsyncIterator[HistoryPage]:
        """Every page of minute bars of ``symbols`` opened from ``start`` (to ``end``),
        stocks and crypto each from their endpoint."""
        for crypto in (False, True):
            wanted = sorted(s for s in set(symbols) if is_crypto(s) is crypto)
            if wanted:
                async for page in self._pages(wanted, crypto, start, end):
                    yield page

    async def _pages(
        self, symbols: list[str], crypto: bool, start: datetime, end: datetime | None
    ) -> AsyncIterator[HistoryPage]:
        params: dict[str, str | int] = {
            "symbols": ",".join(symbols),
            "timeframe": "1Min",
            "start": start.isoformat().replace("+00:00", "Z"),
            "limit": HISTORY_PAGE,
            "sort": "asc",
        }
        if end is not None:
            params["end"] = end.isoformat().replace("+00:00", "Z")
        if not crypto:
            params |= {"feed": self._config.feed, "adjustment": "raw"}
        path = self._config.bars_path(crypto)
        while True:
            page = read_history(await self._get(path, params))
            yield page
            if page.next_page_token is None:
                return
            params["page_token"] = page.next_page_token

    async def _get(self, path: str, params: dict[str, str | int]) -> dict[str, object]:
        backoff = Backoff(start=1.0, cap=30.0)
        while True:
            self.requests += 1
            response = await self._http.get(path, params=params)
            if response.status_code == 429:
                wait = _retry_after(response) or backoff.next()
                log.warning("alpaca_history_rate_limited", wait_s=round(wait, 2))
                await asyncio.sleep(wait)
                continue
            if response.status_code >= 400:
                raise HistoryError(response.status_code, _message(response))
            found: dict[str, object] = loads(response.content)
            return found


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("message", body) if isinstance(body, dict) else body)[:200]
