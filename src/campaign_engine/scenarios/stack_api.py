"""The demo's view of the stack: the REST API calls it makes, and how it reads their answers
(leniently: a field it does not find is a value it does not have)."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import httpx

from campaign_engine.domain.market import EntrySignal, PriceUpdate
from campaign_engine.scenarios import ExpectedStatus

DEFAULT_API_URL = "http://127.0.0.1:8000"
API_PREFIX = "/api/v1"
LISTED = 100  # campaigns read per symbol (the API's largest page)
TERMINAL = {ExpectedStatus.COMPLETED.value, ExpectedStatus.INVALIDATED.value}


class DemoError(Exception):
    """The scenario could not be played: the stack is unreachable, refused something, or a
    campaign did not keep up."""


class DemoApi:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self._http = http
        self.url = url

    async def _call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise DemoError(
                f"cannot reach the campaign-engine API at {self.url} ({error!r}); "
                "start the stack with `campaigns dev` or pass the API's URL"
            ) from None
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise DemoError(
                "the API refused the request (401): give its token (API_TOKEN or --token)"
            )
        return response

    @staticmethod
    def _refused(what: str, response: httpx.Response) -> DemoError:
        try:
            body = response.json()
        except ValueError:
            body = None
        detail = body.get("detail", body) if isinstance(body, dict) else response.text
        return DemoError(f"the API refused {what} ({response.status_code}): {detail}")

    async def check(self) -> None:
        response = await self._call("GET", "/healthz")
        if response.status_code != httpx.codes.OK:
            raise self._refused("the health check", response)

    async def portfolio(self) -> dict[str, Any] | None:
        response = await self._call("GET", "/portfolio")
        return _object(response) if response.status_code == httpx.codes.OK else None

    async def campaign(self, campaign_id: str) -> dict[str, Any] | None:
        response = await self._call("GET", f"/campaigns/{campaign_id}")
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if response.status_code != httpx.codes.OK:
            raise self._refused(f"reading campaign {campaign_id}", response)
        return _object(response)

    async def campaigns_of(self, symbol: str) -> list[dict[str, Any]]:
        """The newest campaigns of ``symbol`` (by their market time), up to a page of them."""
        query = urlencode({"symbol": symbol, "limit": LISTED})
        response = await self._call("GET", f"/campaigns?{query}")
        if response.status_code != httpx.codes.OK:
            raise self._refused(f"listing the campaigns of {symbol}", response)
        body = response.json()
        listed = body.get("data") if isinstance(body, dict) else None
        return [c for c in listed if isinstance(c, dict)] if isinstance(listed, list) else []

    async def positions(self, campaign_id: str) -> list[dict[str, Any]]:
        response = await self._call(
            "GET", f"/campaigns/{campaign_id}/positions?include_closed=true"
        )
        if response.status_code != httpx.codes.OK:
            raise self._refused(f"reading the positions of {campaign_id}", response)
        return positions_of(response.json())

    async def signal(self, signal: EntrySignal) -> dict[str, Any]:
        response = await self._call("POST", "/signals", signal.model_dump(mode="json"))
        if response.status_code != httpx.codes.OK:
            raise self._refused(f"signal {signal.signal_id}", response)
        return _object(response)

    async def batch(self, signals: Sequence[EntrySignal]) -> list[dict[str, Any]]:
        body = [s.model_dump(mode="json") for s in signals]
        response = await self._call("POST", "/signals/batch", body)
        if response.status_code != httpx.codes.OK:
            raise self._refused("a batch of signals", response)
        plans = response.json()
        if not isinstance(plans, list):
            raise DemoError(f"POST /signals/batch answered {plans!r}, not a list of plans")
        return plans

    async def prices(self, updates: Sequence[PriceUpdate]) -> int:
        """Post ``updates``; how many of them came too late for any campaign (their symbol
        has sent a bar at or after their time already)."""
        body = [u.model_dump(mode="json", exclude_none=True) for u in updates]
        response = await self._call("POST", "/prices", body)
        if response.status_code not in (httpx.codes.OK, httpx.codes.ACCEPTED):
            raise self._refused("a price update", response)
        answer = response.json()
        too_old = answer.get("too_old") if isinstance(answer, dict) else None
        return too_old if isinstance(too_old, int) else 0


def _object(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    if not isinstance(body, dict):
        raise DemoError(f"{response.request.url} answered {body!r}, not an object")
    return body


def positions_of(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict):
        body = body.get("positions", body.get("data", []))
    return [p for p in body if isinstance(p, dict)] if isinstance(body, list) else []


def decimal_or_none(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def time_or_none(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def is_closed(campaign: dict[str, Any]) -> bool:
    return campaign.get("status") in TERMINAL and campaign.get("closed_at") is not None
