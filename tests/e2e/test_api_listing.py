"""The REST API (SPEC section 8) over HTTP against the running stack: a real uvicorn serving the
app, the worker, the Temporal dev server and PostgreSQL. Batches in priority order, listing with
pagination and filters, risk by correlation group.

The ``api`` fixture (tests/e2e/conftest.py) serves the app over the test's stack."""

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.domain.market import EntrySignal
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import T0, signal, trading_range
from tests.e2e.api_fixtures import (
    V1,
    api_client,
    body,
    dec,
    locs,
    ok,
)
from tests.support.harness import Stack, settled

D = Decimal


# --- listing -------------------------------------------------------------------------------


def _entry(
    symbol: str, pattern: Pattern, confidence: int, r_multiple: str, minutes: int
) -> EntrySignal:
    """A signal ``minutes`` into the session: the list shows campaigns newest first by the
    market time of the signal that opened them."""
    rng = trading_range(symbol=symbol, range_id=uuid4())
    at = T0 + timedelta(minutes=minutes)
    return signal(pattern, rng=rng, confidence=confidence, r_multiple=r_multiple, at=at)


async def test_batch_order_list_pagination_filters_and_groups(stack: Stack) -> None:
    tech = {"AAPL": "TECH", "MSFT": "TECH", "NVDA": "TECH"}
    grouped = CampaignClient(
        stack.client.temporal,
        policy=Policy(starting_equity=D("100000"), correlation_groups=tech),
        task_queue=stack.settings.task_queue,
    )
    async with api_client(stack.settings, grouped, stack.engine) as api:
        batch = [
            _entry("MSFT", Pattern.SOS, 85, "2.8", 5),  # score 60.4
            _entry("NVDA", Pattern.LPS, 80, "3.5", 4),  # 66.5
            _entry("AAPL", Pattern.SPRING, 75, "3.0", 3),  # 69.0
            _entry("AMD", Pattern.SPRING, 80, "3.0", 2),  # 71.0
            _entry("TSLA", Pattern.SPRING, 90, "3.0", 1),  # 75.0
        ]
        plans = await ok(await api.post(f"{V1}/signals/batch", json=[body(s) for s in batch]))
        assert [p["symbol"] for p in plans] == ["TSLA", "AMD", "AAPL", "NVDA", "MSFT"]
        assert [dec(p["priority_score"]) for p in plans] == [
            D(75),
            D(71),
            D(69),
            D("66.5"),
            D("60.4"),
        ]
        assert [(p["approved"], p["shares"]) for p in plans] == [(True, "333")] * 3 + [
            (True, "1333")
        ] * 2
        ids = {p["symbol"]: p["campaign_id"] for p in plans}
        for campaign_id in ids.values():
            await settled(stack, campaign_id, 2)  # approved and filled

        everything = await ok(await api.get(f"{V1}/campaigns", params={"limit": 100}))
        newest_first = ["MSFT", "NVDA", "AAPL", "AMD", "TSLA"]
        assert [c["symbol"] for c in everything["data"]] == newest_first
        assert everything["pagination"] == {
            "returned_count": 5,
            "total_count": 5,
            "limit": 100,
            "offset": 0,
            "has_more": False,
        }
        msft = everything["data"][0]
        assert (msft["status"], msft["total_allocation"], msft["current_risk"]) == (
            "MARKUP",
            "1.9995",
            "1.9995",
        )
        assert "positions" not in msft

        async def page(**params: Any) -> tuple[list[str], dict[str, Any]]:
            found = await ok(await api.get(f"{V1}/campaigns", params=params))
            return [c["symbol"] for c in found["data"]], found["pagination"]

        one, pagination = await page(limit=1)
        assert one == ["MSFT"] and pagination["has_more"] is True
        assert pagination["returned_count"] == 1 and pagination["total_count"] == 5
        pages = [await page(limit=2, offset=n) for n in (0, 2, 4)]
        assert [symbols for symbols, _ in pages] == [["MSFT", "NVDA"], ["AAPL", "AMD"], ["TSLA"]]
        assert [p["has_more"] for _, p in pages] == [True, True, False]
        assert await page(limit=1, offset=3) == (
            ["AMD"],
            {"returned_count": 1, "total_count": 5, "limit": 1, "offset": 3, "has_more": True},
        )
        for past_the_end in (5, 500):
            symbols, pagination = await page(offset=past_the_end)
            assert symbols == [] and pagination["total_count"] == 5
            assert pagination["has_more"] is False
        for limit in (0, 101, -1, "many"):
            refused = await api.get(f"{V1}/campaigns", params={"limit": limit})
            assert locs(refused) == [["query", "limit"]]
        assert locs(await api.get(f"{V1}/campaigns", params={"offset": -1})) == [
            ["query", "offset"]
        ]

        assert (await page(symbol="msft"))[0] == ["MSFT"]
        assert (await page(symbol="ZZZ"))[0] == []
        assert (await page(status="markup"))[0] == ["MSFT", "NVDA"]
        assert (await page(status="ACTIVE"))[0] == ["AAPL", "AMD", "TSLA"]
        assert (await page(status="ACTIVE", symbol="NVDA"))[0] == []
        sleeping = await api.get(f"{V1}/campaigns", params={"status": "SLEEPING"})
        assert locs(sleeping) == [["query", "status"]]
        assert (
            "'ACTIVE', 'MARKUP', 'COMPLETED', 'INVALIDATED' or 'QUARANTINED'"
            in sleeping.json()["detail"][0]["msg"]
        )
        assert locs(await api.get(f"{V1}/campaigns", params={"symbol": "no such!"})) == [
            ["query", "symbol"]
        ]

        portfolio = await ok(await api.get(f"{V1}/portfolio"))
        assert (portfolio["heat_pct"], portfolio["total_risk"]) == ("5.4975", "5497.5")
        assert [
            (g["correlation_group"], g["symbols"], g["total_risk"], g["risk_pct"], g["limit_pct"])
            for g in portfolio["open_risk_by_group"]
        ] == [
            ("AMD", ["AMD"], "499.5", "0.4995", "6"),
            ("TECH", ["AAPL", "MSFT", "NVDA"], "4498.5", "4.4985", "6"),
            ("TSLA", ["TSLA"], "499.5", "0.4995", "6"),
        ]
        by_campaign = {c["campaign_id"]: c for c in portfolio["open_risk_by_campaign"]}
        assert by_campaign[ids["NVDA"]]["correlation_group"] == "TECH"
        assert by_campaign[ids["NVDA"]]["risk_pct"] == "1.9995"
