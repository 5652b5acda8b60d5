"""The REST API (SPEC section 8) over HTTP against the running stack: a real uvicorn serving
the app, the worker, the Temporal dev server and PostgreSQL."""

import re
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.client import Client

from campaign_engine.api import ServeError, create_app, serve_api
from campaign_engine.client import CampaignClient
from campaign_engine.converter import data_converter
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.schema import allocation_plans, campaign_snapshots, campaigns
from campaign_engine.domain.market import EntrySignal
from campaign_engine.domain.money import to_price_precision
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.settings import Settings
from tests.e2e.api_fixtures import V1, api_client, app_client, body, dec, tick_now
from tests.support.builders import signal, trading_range
from tests.support.harness import Stack, eventually, persisted_status, settled

D = Decimal
CAMPAIGN = "AAPL-2024-10-15"
UNKNOWN = "NOPE-2024-01-01"


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(stack.settings, stack.client, stack.engine) as http:
        yield http


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _locs(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [e["loc"] for e in response.json()["detail"]]


def _pct(amount: Decimal, equity: Decimal) -> Decimal:
    """Risk as a % of equity, rounded up to 8 places like every risk figure."""
    return (amount * 100 / equity).quantize(D("0.00000001"), rounding=ROUND_CEILING)


async def _submit(api: httpx.AsyncClient, entry: EntrySignal) -> dict[str, Any]:
    plan: dict[str, Any] = await _ok(await api.post(f"{V1}/signals", json=body(entry)))
    return plan


# --- the worked example, end to end ----------------------------------------------------------


async def test_the_worked_story_with_exact_numbers(stack: Stack, api: httpx.AsyncClient) -> None:
    spring_signal = signal(Pattern.SPRING)
    spring = await _submit(api, spring_signal)
    assert (spring["approved"], spring["campaign_id"]) == (True, CAMPAIGN)
    assert (spring["shares"], spring["risk_amount"], spring["actual_risk_pct"]) == (
        "333",
        "499.5",
        "0.4995",
    )
    assert await _submit(api, spring_signal) == spring  # same signal id, first decision
    sos = await _submit(api, signal(Pattern.SOS))
    duplicate = await _submit(api, signal(Pattern.SPRING))
    assert (duplicate["approved"], duplicate["rejection_code"]) == (False, "DUPLICATE_PATTERN")
    lps = await _submit(api, signal(Pattern.LPS))
    assert (sos["shares"], lps["shares"]) == ("666", "400")
    await settled(stack, CAMPAIGN, 6)  # 3 approvals + 3 fills

    campaign = await _ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}"))
    assert {k: campaign[k] for k in ("status", "phase", "version", "symbol", "timeframe")} == {
        "status": "MARKUP",
        "phase": "MARKUP",
        "version": 6,
        "symbol": "AAPL",
        "timeframe": "1h",
    }
    assert (campaign["total_allocation"], campaign["current_risk"], campaign["open_risk"]) == (
        "2.0985",
        "2.0985",
        "2098.5",
    )
    assert (campaign["creek"], campaign["ice"], campaign["jump"], campaign["spring_low"]) == (
        "145",
        "150",
        "156",
        None,
    )
    assert campaign["created_at"].endswith("Z") and campaign["closed_at"] is None
    assert [p["pattern"] for p in campaign["positions"]] == ["SPRING", "SOS", "LPS"]
    assert campaign["metrics"] == {
        "total_shares": "1399",
        "weighted_avg_entry": str(to_price_precision(D(209917) / D(1399))),  # 150.04789135
        "total_risk": "2098.5",
        "current_risk": "2.0985",
        "realized_pnl": "0",
        "unrealized_pnl": "0",  # no price seen yet
        "total_pnl": "0",
        "r_multiple": "0",
        "open_positions_count": 3,
        "closed_positions_count": 0,
    }

    portfolio = await _ok(await api.get(f"{V1}/portfolio"))
    assert {k: portfolio[k] for k in ("equity", "heat_pct", "open_risk", "alert_level")} == {
        "equity": "100000",
        "heat_pct": "2.0985",
        "open_risk": "2098.5",
        "alert_level": "NORMAL",
    }
    assert portfolio["open_risk_by_campaign"] == [
        {
            "campaign_id": CAMPAIGN,
            "symbol": "AAPL",
            "correlation_group": "AAPL",
            "open_risk": "2098.5",
            "reserved_risk": "0",
            "total_risk": "2098.5",
            "risk_pct": "2.0985",
        }
    ]
    groups = portfolio["open_risk_by_group"]
    assert [(g["correlation_group"], g["risk_pct"], g["limit_pct"]) for g in groups] == [
        ("AAPL", "2.0985", "6")
    ]

    # The first target: the Spring sells 166 at 150 (+249) and trails its stop to breakeven.
    assert await _ok(await api.post(f"{V1}/prices", json=tick_now("150.00")), 202) == {
        "accepted": 1
    }

    async def first_target_booked() -> bool:
        return bool((await api.get(f"{V1}/portfolio")).json()["realized_pnl"] == "249")

    await eventually(first_target_booked)
    portfolio = await _ok(await api.get(f"{V1}/portfolio"))
    assert portfolio["equity"] == "100249"
    assert dec(portfolio["heat_pct"]) == _pct(D("999") + D("600"), D("100249"))

    now = datetime.now(UTC)
    ladder = [
        {"symbol": "AAPL", "as_of": (now + timedelta(milliseconds=n)).isoformat(), "price": p}
        for n, p in enumerate(["156.00", "159.00", "162.00"], start=1)
    ]
    assert await _ok(await api.post(f"{V1}/prices", json=ladder), 202) == {"accepted": 3}
    await persisted_status(stack, CAMPAIGN, CampaignStatus.COMPLETED)

    done = await _ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}"))
    assert (done["status"], done["source"], done["realized_pnl"]) == (
        "COMPLETED",
        "read_model",
        "9776",
    )
    assert done["closed_at"] is not None and done["current_risk"] == "0"
    assert done["metrics"] == {
        "total_shares": "0",
        "weighted_avg_entry": None,
        "total_risk": "0",
        "current_risk": "0",
        "realized_pnl": "9776",
        "unrealized_pnl": "0",
        "total_pnl": "9776",
        "r_multiple": "4.6586",  # 9776 / 2098.5
        "open_positions_count": 0,
        "closed_positions_count": 3,
    }
    still_open = await _ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}/positions"))
    assert still_open["positions"] == [] and still_open["closed_positions_count"] == 3
    everything = await _ok(
        await api.get(f"{V1}/campaigns/{CAMPAIGN}/positions", params={"include_closed": "true"})
    )
    closed = {
        p["pattern"]: (p["status"], p["open_shares"], p["realized_pnl"])
        for p in everything["positions"]
    }
    assert closed == {
        "SPRING": ("CLOSED", "0", "1705.5"),  # 166 x 1.50 + 99 x 7.50 + 68 x 10.50
        "SOS": ("CLOSED", "0", "5230.5"),
        "LPS": ("CLOSED", "0", "2840"),
    }
    assert everything["total_pnl"] == "9776"

    allocations = await _ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}/allocations"))
    assert [(a["pattern"], a["approved"], a["shares"]) for a in allocations["allocations"]] == [
        ("SPRING", True, "333"),
        ("SOS", True, "666"),
        ("SPRING", False, "0"),
        ("LPS", True, "400"),
    ]
    assert [a["signal_id"] for a in allocations["allocations"]] == [
        spring["signal_id"],
        sos["signal_id"],
        duplicate["signal_id"],
        lps["signal_id"],
    ]
    assert (allocations["total_allocated"], allocations["remaining_budget"]) == (
        "2.0985",
        "2.9015",
    )

    events = (await _ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}/events")))["events"]
    types = [e["type"] for e in events]
    assert (types[0], types[-1]) == ("CampaignCreated", "CampaignCompleted")
    assert types.count("ExitExecuted") == 9 and "AllocationRejected" in types
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert [e["version"] for e in events] == sorted(e["version"] for e in events)

    portfolio = await _ok(await api.get(f"{V1}/portfolio"))
    assert (portfolio["equity"], portfolio["realized_pnl"], portfolio["heat_pct"]) == (
        "109776",
        "9776",
        "0",
    )
    assert portfolio["open_risk_by_campaign"] == portfolio["open_risk_by_group"] == []

    # A finished campaign refuses operator commands.
    patch = await api.patch(f"{V1}/campaigns/{CAMPAIGN}", json={"status": "MARKUP", "version": 9})
    assert patch.status_code == 422 and "COMPLETED" in patch.json()["detail"], patch.text
    late = await api.post(f"{V1}/campaigns/{CAMPAIGN}/invalidate", json={"reason": "late"})
    assert late.status_code == 422 and "COMPLETED" in late.json()["detail"], late.text


# --- listing -------------------------------------------------------------------------------


def _entry(symbol: str, pattern: Pattern, confidence: int, r_multiple: str) -> EntrySignal:
    rng = trading_range(symbol=symbol, range_id=uuid4())
    return signal(pattern, rng=rng, confidence=confidence, r_multiple=r_multiple)


async def test_batch_order_list_pagination_filters_and_groups(stack: Stack) -> None:
    tech = {"AAPL": "TECH", "MSFT": "TECH", "NVDA": "TECH"}
    grouped = CampaignClient(
        stack.client.temporal,
        policy=Policy(starting_equity=D("100000"), correlation_groups=tech),
        task_queue=stack.settings.task_queue,
    )
    async with api_client(stack.settings, grouped, stack.engine) as api:
        batch = [
            _entry("MSFT", Pattern.SOS, 85, "2.8"),  # score 60.4
            _entry("NVDA", Pattern.LPS, 80, "3.5"),  # 66.5
            _entry("AAPL", Pattern.SPRING, 75, "3.0"),  # 69.0
            _entry("AMD", Pattern.SPRING, 80, "3.0"),  # 71.0
            _entry("TSLA", Pattern.SPRING, 90, "3.0"),  # 75.0
        ]
        plans = await _ok(await api.post(f"{V1}/signals/batch", json=[body(s) for s in batch]))
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

        everything = await _ok(await api.get(f"{V1}/campaigns", params={"limit": 100}))
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
            found = await _ok(await api.get(f"{V1}/campaigns", params=params))
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
            assert _locs(refused) == [["query", "limit"]]
        assert _locs(await api.get(f"{V1}/campaigns", params={"offset": -1})) == [
            ["query", "offset"]
        ]

        assert (await page(symbol="msft"))[0] == ["MSFT"]
        assert (await page(symbol="ZZZ"))[0] == []
        assert (await page(status="markup"))[0] == ["MSFT", "NVDA"]
        assert (await page(status="ACTIVE"))[0] == ["AAPL", "AMD", "TSLA"]
        assert (await page(status="ACTIVE", symbol="NVDA"))[0] == []
        sleeping = await api.get(f"{V1}/campaigns", params={"status": "SLEEPING"})
        assert _locs(sleeping) == [["query", "status"]]
        assert (
            "'ACTIVE', 'MARKUP', 'COMPLETED' or 'INVALIDATED'"
            in sleeping.json()["detail"][0]["msg"]
        )
        assert _locs(await api.get(f"{V1}/campaigns", params={"symbol": "no such!"})) == [
            ["query", "symbol"]
        ]

        portfolio = await _ok(await api.get(f"{V1}/portfolio"))
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


# --- operator commands ---------------------------------------------------------------------


async def test_patch_and_invalidate_answer_404_409_422(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    await _submit(api, signal(Pattern.SPRING))
    await settled(stack, CAMPAIGN, 2)
    path = f"{V1}/campaigns/{CAMPAIGN}"

    conflict = await api.patch(path, json={"status": "MARKUP", "version": 1})
    assert conflict.status_code == 409
    assert conflict.json() == {"detail": "campaign is at version 2, not 1"}
    not_allowed = await api.patch(path, json={"status": "COMPLETED", "version": 2})
    assert not_allowed.status_code == 422 and isinstance(not_allowed.json()["detail"], str)
    malformed = await api.patch(path, json={"status": "SLEEPING", "version": 0, "by": "me"})
    assert sorted(_locs(malformed)) == [["body", "by"], ["body", "status"], ["body", "version"]]

    # No API_TOKEN: mutations need no token, and a stray header does no harm.
    changed = await _ok(
        await api.patch(
            path,
            json={"status": "markup", "version": 2},
            headers={"Authorization": "Bearer anything"},
        )
    )
    assert (changed["status"], changed["phase"], changed["version"]) == ("MARKUP", "MARKUP", 3)

    assert _locs(await api.post(f"{path}/invalidate", json={"reason": "   "})) == [
        ["body", "reason"]
    ]
    assert _locs(await api.post(f"{path}/invalidate", json={})) == [["body", "reason"]]
    invalidated = await _ok(await api.post(f"{path}/invalidate", json={"reason": "range broken"}))
    assert (invalidated["status"], invalidated["invalidation_reason"]) == (
        "INVALIDATED",
        "range broken",
    )
    again = await api.post(f"{path}/invalidate", json={"reason": "range broken"})
    assert again.status_code == 422
    assert again.json() == {"detail": f"campaign {CAMPAIGN} is already INVALIDATED"}
    late = await api.patch(path, json={"status": "MARKUP", "version": 4})
    assert late.status_code == 422

    await persisted_status(stack, CAMPAIGN, CampaignStatus.INVALIDATED)
    listed = await _ok(await api.get(f"{V1}/campaigns", params={"status": "invalidated"}))
    assert [c["campaign_id"] for c in listed["data"]] == [CAMPAIGN]
    events = (await _ok(await api.get(f"{path}/events")))["events"]
    assert [e["type"] for e in events] == [
        "CampaignCreated",
        "PositionOpened",
        "CampaignUpdated",
        "CampaignInvalidated",
        "ExitExecuted",
        "CampaignUpdated",  # all positions exited
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5, 5]

    missing = {"detail": f"there is no campaign {UNKNOWN}"}
    for suffix in ("", "/positions", "/allocations", "/events"):
        response = await api.get(f"{V1}/campaigns/{UNKNOWN}{suffix}")
        assert (response.status_code, response.json()) == (404, missing)
    response = await api.patch(f"{V1}/campaigns/{UNKNOWN}", json={"status": "MARKUP", "version": 1})
    assert (response.status_code, response.json()) == (404, missing)
    response = await api.post(f"{V1}/campaigns/{UNKNOWN}/invalidate", json={"reason": "x"})
    assert (response.status_code, response.json()) == (404, missing)


async def test_a_refused_first_signal_makes_no_campaign(api: httpx.AsyncClient) -> None:
    plan = await _submit(api, signal(Pattern.LPS, confidence=72))  # sole LPS needs 75
    assert (plan["approved"], plan["rejection_code"]) == (False, "LOW_CONFIDENCE")
    for suffix in ("", "/positions", "/allocations", "/events"):
        assert (await api.get(f"{V1}/campaigns/{CAMPAIGN}{suffix}")).status_code == 404
    listed = await _ok(await api.get(f"{V1}/campaigns"))
    assert listed["pagination"]["total_count"] == 0


# --- bad input -----------------------------------------------------------------------------


async def test_bad_input_names_every_field_and_writes_nothing(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    good = body(signal(Pattern.SPRING))
    fields = {
        **{k: v for k, v in good.items() if k != "signal_id"},
        "confidence": 150,
        "entry_price": "a lot",
        "generated_at": "2024-10-15T14:30:00",  # no time zone
    }
    response = await api.post(f"{V1}/signals", json=fields)
    assert sorted(_locs(response)) == [
        ["body", "confidence"],
        ["body", "entry_price"],
        ["body", "generated_at"],
        ["body", "signal_id"],
    ]
    by_field = {tuple(e["loc"]): e for e in response.json()["detail"]}
    assert by_field[("body", "confidence")]["msg"] == "Input should be less than or equal to 100"
    assert by_field[("body", "entry_price")]["input"] == "a lot"

    stop_above = await api.post(f"{V1}/signals", json={**good, "stop_loss": "149.00"})
    [error] = stop_above.json()["detail"]
    assert error["msg"] == (
        "stop_loss 149.00 must be below entry_price 148.50 (campaigns are long only)"
    )

    in_batch = await api.post(
        f"{V1}/signals/batch", json=[good, {**good, "signal_id": str(uuid4()), "pattern": "X"}]
    )
    assert _locs(in_batch) == [["body", 1, "pattern"]]
    not_json = await api.post(
        f"{V1}/signals", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422

    negative = await api.post(f"{V1}/prices", json={**tick_now("1"), "price": "-1"})
    assert _locs(negative) == [["body", "price"]]
    assert negative.json()["detail"][0]["msg"] == "Input should be greater than 0"
    second_bad = await api.post(f"{V1}/prices", json=[tick_now("149"), {"symbol": "AAPL"}])
    assert _locs(second_bad) == [["body", 1, "as_of"]]
    bar = {"symbol": "AAPL", "as_of": tick_now("1")["as_of"]}
    inverted = await api.post(
        f"{V1}/prices", json={**bar, "open": "10", "high": "11", "low": "12", "close": "10"}
    )
    assert "low <= open, close <= high" in inverted.json()["detail"][0]["msg"]

    async with stack.engine.connect() as conn:
        for table in (campaigns, allocation_plans, campaign_snapshots):
            count = (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            assert count == 0, table.name
    started = [
        w
        async for w in stack.client.temporal.list_workflows(
            f"TaskQueue = '{stack.settings.task_queue}'"
        )
    ]
    assert started == []


# --- live state, fallbacks, health ---------------------------------------------------------


async def test_live_state_where_fresher_and_the_read_model_when_temporal_is_gone(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    await _submit(api, signal(Pattern.SPRING))
    await settled(stack, CAMPAIGN, 2)
    # 149 crosses nothing (stop 147, first target 150): no new version, nothing written,
    # yet the workflow has taken it.
    await _ok(await api.post(f"{V1}/prices", json=tick_now("149.00")), 202)

    async def price_taken() -> bool:
        found = (await api.get(f"{V1}/campaigns/{CAMPAIGN}")).json()
        return bool(found["last_price"] == "149")

    await eventually(price_taken)
    live = await _ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}"))
    assert (live["source"], live["version"]) == ("workflow", 2)
    assert live["last_price_at"] is not None
    positions = await _ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}/positions"))
    assert positions["source"] == "workflow"
    assert (positions["unrealized_pnl"], positions["total_pnl"], positions["r_multiple"]) == (
        "166.5",  # (149 - 148.50) x 333
        "166.5",
        "0.3333",
    )
    assert positions["positions"][0]["unrealized_pnl"] == "166.5"
    async with stack.engine.connect() as conn:
        row = (
            await conn.execute(
                select(campaigns.c.version, campaigns.c.last_price).where(
                    campaigns.c.campaign_id == CAMPAIGN
                )
            )
        ).one()
    assert (row.version, row.last_price) == (2, None)

    gone = await Client.connect("127.0.0.1:1", lazy=True, data_converter=data_converter)
    unreachable = CampaignClient(gone, task_queue=stack.settings.task_queue)
    async with api_client(stack.settings, unreachable, stack.engine) as offline:
        stored = await _ok(await offline.get(f"{V1}/campaigns/{CAMPAIGN}"))
        assert (stored["source"], stored["version"], stored["last_price"]) == (
            "read_model",
            2,
            None,
        )
        listed = await _ok(await offline.get(f"{V1}/campaigns"))
        assert listed["pagination"]["total_count"] == 1
        health = await offline.get("/healthz")
        assert health.status_code == 503
        assert (health.json()["status"], health.json()["database"]) == ("unavailable", "ok")
        assert health.json()["temporal"].startswith("unreachable")
        refused = await offline.post(f"{V1}/signals", json=body(signal(Pattern.SOS)))
        assert refused.status_code == 503
        assert refused.json()["detail"].startswith("Temporal is unavailable")

    broken = create_engine_for("postgresql://postgres@127.0.0.1:1/none", pool_size=1)
    try:
        async with api_client(stack.settings, stack.client, broken) as no_database:
            health = await no_database.get(f"{V1}/healthz")
            assert health.status_code == 503
            assert (health.json()["temporal"], health.json()["status"]) == ("ok", "unavailable")
            assert health.json()["database"].startswith("unreachable")
            listing = await no_database.get(f"{V1}/campaigns")
            assert listing.status_code == 503
            assert listing.json()["detail"].startswith("the database is unavailable")
    finally:
        await broken.dispose()


async def test_health_and_openapi(stack: Stack, api: httpx.AsyncClient) -> None:
    healthy = {"status": "ok", "temporal": "ok", "database": "ok"}
    for path in ("/healthz", f"{V1}/healthz"):
        assert await _ok(await api.get(path)) == healthy
    # Given only settings, the server connects to Temporal and the database itself.
    target = stack.client.temporal.service_client.config.target_host
    alone = stack.settings.model_copy(update={"temporal_address": target})
    async with api_client(alone) as served:
        assert await _ok(await served.get("/healthz")) == healthy
        assert (await _ok(await served.get(f"{V1}/portfolio")))["equity"] == "100000"
    async with app_client(create_app(alone)) as app:
        assert await _ok(await app.get("/healthz")) == healthy
        assert await _ok(await app.post(f"{V1}/prices", json=tick_now("149")), 202) == {
            "accepted": 1
        }
    docs = await api.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = await _ok(await api.get("/openapi.json"))
    assert set(spec["paths"]) == {
        f"{V1}/signals",
        f"{V1}/signals/batch",
        f"{V1}/prices",
        f"{V1}/campaigns",
        f"{V1}/campaigns/{{campaign_id}}",
        f"{V1}/campaigns/{{campaign_id}}/positions",
        f"{V1}/campaigns/{{campaign_id}}/allocations",
        f"{V1}/campaigns/{{campaign_id}}/events",
        f"{V1}/campaigns/{{campaign_id}}/invalidate",
        f"{V1}/portfolio",
        f"{V1}/healthz",
        "/healthz",
    }
    schemas = spec["components"]["schemas"]
    assert schemas["CampaignDetailOut"]["properties"]["total_allocation"]["type"] == "string"
    assert schemas["AllocationPlanOut"]["properties"]["shares"]["type"] == "string"
    assert spec["components"]["securitySchemes"]["API_TOKEN"]["scheme"] == "bearer"
    assert "security" in spec["paths"][f"{V1}/signals"]["post"]
    assert "security" not in spec["paths"][f"{V1}/campaigns"]["get"]


# --- auth ----------------------------------------------------------------------------------


async def test_a_token_guards_every_mutation_and_only_mutations(stack: Stack) -> None:
    settings = stack.settings.model_copy(update={"api_token": "s3cret"})
    entry = body(signal(Pattern.SPRING))
    mutations = [
        ("POST", f"{V1}/signals", entry),
        ("POST", f"{V1}/signals/batch", [entry]),
        ("POST", f"{V1}/prices", tick_now("149")),
        ("POST", f"{V1}/campaigns/{CAMPAIGN}/invalidate", {"reason": "x"}),
        ("PATCH", f"{V1}/campaigns/{CAMPAIGN}", {"status": "MARKUP", "version": 1}),
        ("POST", f"{V1}/signals", {"not": "a signal"}),  # 401 before any validation
    ]
    async with api_client(settings, stack.client, stack.engine) as api:
        for method, path, payload in mutations:
            for header, expected in (
                (None, "missing bearer token"),
                ("Bearer wrong", "invalid bearer token"),
                ("Bearer s3cre", "invalid bearer token"),
                ("Basic czNjcmV0", "missing bearer token"),
            ):
                headers = {"Authorization": header} if header else {}
                response = await api.request(method, path, json=payload, headers=headers)
                assert response.status_code == 401, (method, path, header, response.text)
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert expected in response.json()["detail"]
        listed = await _ok(await api.get(f"{V1}/campaigns"))  # reads need no token
        assert listed["pagination"]["total_count"] == 0  # nothing got through

        authorized = {"Authorization": "Bearer s3cret"}
        plan = await _ok(await api.post(f"{V1}/signals", json=entry, headers=authorized))
        assert plan["approved"] is True
        await settled(stack, CAMPAIGN, 2)
        for path in (f"{V1}/campaigns/{CAMPAIGN}", f"{V1}/portfolio", "/healthz"):
            await _ok(await api.get(path))
        changed = await api.patch(
            f"{V1}/campaigns/{CAMPAIGN}",
            json={"status": "MARKUP", "version": 2},
            headers=authorized,
        )
        assert (await _ok(changed))["status"] == "MARKUP"


async def test_serving_fails_with_a_clear_error_when_it_cannot_start() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=re.escape(f"cannot listen on 127.0.0.1:{port}")):
            await serve_api(Settings(), port=port)
    nowhere = Settings(temporal_address="127.0.0.1:1", metrics_port=None)
    with pytest.raises(ServeError, match=re.escape("cannot reach Temporal at 127.0.0.1:1")):
        await serve_api(nowhere, port=0)
