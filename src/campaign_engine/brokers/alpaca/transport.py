"""Alpaca's REST API over one async HTTP client: the request budget, 429 back-off, and errors
sorted into the broker's refusals (answered) and failures to reach it (retried).

alpaca-py's ``TradingClient`` is not the transport: it is synchronous (``requests``, so each
call would hold a thread), sets no timeout, and retries a 429 after a fixed 3 s whatever
Alpaca's headers say. Here a request waits for the budget, a 429 pauses every request until
the time Alpaca named, and a call that cannot get an answer raises so that the activity
retries it (a submit retried that way finds its order by client order id)."""

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import structlog

from campaign_engine.brokers.alpaca.config import AlpacaConfig
from campaign_engine.brokers.alpaca.wire import loads

log = structlog.get_logger("campaign_engine.brokers.alpaca")

MAX_BACKOFF_SECONDS = 60.0
RATE_LIMITED_ATTEMPTS = 3


class AlpacaUnavailable(RuntimeError):
    """No answer about the request: the network, a timeout, a 5xx, rejected keys, or still
    rate-limited after backing off. The caller (an activity) retries."""


class AlpacaRefusal(Exception):
    """Alpaca answered the request with a 4xx and its ``{"code", "message"}``."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class RequestBudget:
    """At most ``per_minute`` requests in any 60 seconds (a sliding window, so a burst never
    borrows from the next minute), and none before a time a 429 named. One per process:
    several workers on one account share Alpaca's limit, so give each its share."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        window: float = 60.0,
    ) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._window = window
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:  # waiters queue in arrival order
            while True:
                now = self._clock()
                while self._sent and self._sent[0] <= now - self._window:
                    self._sent.popleft()
                wait = self._paused_until - now
                if len(self._sent) >= self._per_minute:
                    wait = max(wait, self._sent[0] + self._window - now)
                if wait <= 0:
                    self._sent.append(now)
                    return
                await self._sleep(wait)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)


def backoff_seconds(response: httpx.Response, now: float | None = None) -> float:
    """How long a 429 asks us to wait: ``Retry-After`` (seconds or a date), else
    ``X-RateLimit-Reset`` (epoch seconds), else a second; never more than a minute."""
    now = time.time() if now is None else now
    wait = _retry_after(response.headers.get("Retry-After", ""), now)
    if wait is None:
        reset = _number(response.headers.get("X-RateLimit-Reset", ""))
        wait = reset - now if reset is not None else 1.0
    return min(max(wait, 0.0), MAX_BACKOFF_SECONDS)


def _retry_after(value: str, now: float) -> float | None:
    if not value:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        return parsedate_to_datetime(value).timestamp() - now
    except (TypeError, ValueError):
        return None


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


class AlpacaHttp:
    """``request`` returns the answer's JSON (numbers as Decimals), None for an empty one."""

    def __init__(
        self,
        config: AlpacaConfig,
        *,
        budget: RequestBudget | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.budget = budget or RequestBudget(config.requests_per_minute)
        self._client = httpx.AsyncClient(
            base_url=config.trading_url,
            headers=config.auth_headers(),
            timeout=config.timeout_seconds,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        for attempt in range(1, RATE_LIMITED_ATTEMPTS + 1):
            await self.budget.acquire()
            try:
                response = await self._client.request(method, path, params=params, json=body)
            except httpx.HTTPError as error:
                raise AlpacaUnavailable(f"{method} {path}: {type(error).__name__}") from error
            if response.status_code != 429:
                return _answer(method, path, response)
            wait = backoff_seconds(response)
            log.warning("alpaca_rate_limited", path=path, attempt=attempt, wait_seconds=wait)
            self.budget.pause(wait)
        raise AlpacaUnavailable(f"{method} {path}: still rate-limited after {attempt} tries")


def _answer(method: str, path: str, response: httpx.Response) -> Any:
    status = response.status_code
    if status >= 500 or status == 401:
        raise AlpacaUnavailable(f"{method} {path}: Alpaca answered {status}")
    if status >= 400:
        code, message = _error(response)
        raise AlpacaRefusal(status, code, message)
    return loads(response.content) if response.content else None


def _error(response: httpx.Response) -> tuple[int | None, str]:
    """Alpaca's error body is ``{"code": 40010001, "message": "..."}``; anything else is
    reported as its text."""
    try:
        body = loads(response.content)
    except ValueError:
        return None, response.text or response.reason_phrase
    if not isinstance(body, dict):
        return None, response.text
    code = body.get("code")
    return (int(code) if code is not None else None), str(body.get("message", response.text))
