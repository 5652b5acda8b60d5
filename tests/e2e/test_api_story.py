"""The REST API (SPEC section 8) over HTTP against the running stack: a real uvicorn serving the
app, the worker, the Temporal dev server and PostgreSQL. The worked story end to end: decisions,
campaign, positions, portfolio, allocations and events with exact numbers.

The ``api`` fixture (tests/e2e/conftest.py) serves the app over the test's stack."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from campaign_engine.domain.money import to_price_precision
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.testing.builders import signal
from tests.e2e.api_fixtures import (
    CAMPAIGN,
    V1,
    dec,
    ok,
    pct,
    submit,
    tick_now,
)
from tests.support.harness import Stack, eventually, persisted_status, settled

D = Decimal


# --- the worked example, end to end ----------------------------------------------------------


async def test_the_worked_story_with_exact_numbers(stack: Stack, api: httpx.AsyncClient) -> None:
    spring_signal = signal(Pattern.SPRING)
    spring = await submit(api, spring_signal)
    assert (spring["approved"], spring["campaign_id"]) == (True, CAMPAIGN)
    assert (spring["shares"], spring["risk_amount"], spring["actual_risk_pct"]) == (
        "333",
        "499.5",
        "0.4995",
    )
    assert await submit(api, spring_signal) == spring  # same signal id, first decision
    sos = await submit(api, signal(Pattern.SOS))
    duplicate = await submit(api, signal(Pattern.SPRING))
    assert (duplicate["approved"], duplicate["rejection_code"]) == (False, "DUPLICATE_PATTERN")
    lps = await submit(api, signal(Pattern.LPS))
    assert (sos["shares"], lps["shares"]) == ("666", "400")
    await settled(stack, CAMPAIGN, 6)  # 3 approvals + 3 fills

    campaign = await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}"))
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
    # Every entry filled: nothing reserved, so committed risk is the open risk.
    assert (campaign["committed_risk"], campaign["committed_risk_pct"]) == ("2098.5", "2.0985")
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

    portfolio = await ok(await api.get(f"{V1}/portfolio"))
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
    first = await ok(await api.post(f"{V1}/prices", json=tick_now("150.00")), 202)
    assert first == {"accepted": 1, "too_old": 0, "held": 0}

    async def first_target_booked() -> bool:
        return bool((await api.get(f"{V1}/portfolio")).json()["realized_pnl"] == "249")

    await eventually(first_target_booked)
    portfolio = await ok(await api.get(f"{V1}/portfolio"))
    assert portfolio["equity"] == "100249"
    assert dec(portfolio["heat_pct"]) == pct(D("999") + D("600"), D("100249"))

    now = datetime.now(UTC)
    ladder = [
        {"symbol": "AAPL", "as_of": (now + timedelta(milliseconds=n)).isoformat(), "price": p}
        for n, p in enumerate(["156.00", "159.00", "162.00"], start=1)
    ]
    laddered = await ok(await api.post(f"{V1}/prices", json=ladder), 202)
    assert laddered == {"accepted": 3, "too_old": 0, "held": 0}
    await persisted_status(stack, CAMPAIGN, CampaignStatus.COMPLETED)

    done = await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}"))
    assert (done["status"], done["source"], done["realized_pnl"]) == (
        "COMPLETED",
        "read_model",
        "9776",
    )
    assert done["closed_at"] is not None and done["current_risk"] == "0"
    assert (done["committed_risk"], done["committed_risk_pct"]) == ("0", "0")
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
    still_open = await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}/positions"))
    assert still_open["positions"] == [] and still_open["closed_positions_count"] == 3
    everything = await ok(
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

    allocations = await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}/allocations"))
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

    events = (await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}/events")))["events"]
    types = [e["type"] for e in events]
    assert (types[0], types[-1]) == ("CampaignCreated", "CampaignCompleted")
    assert types.count("ExitExecuted") == 9 and "AllocationRejected" in types
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert [e["version"] for e in events] == sorted(e["version"] for e in events)

    portfolio = await ok(await api.get(f"{V1}/portfolio"))
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
