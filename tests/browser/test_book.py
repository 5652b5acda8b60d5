"""The dashboard with a real book, in chromium: a thousand campaigns all reachable (paged,
filtered and sorted by the server), a mark that moves with a price that writes no event, and
a table that fits its panel from a phone to a wide screen.

The thousand campaigns are written into the read model as the workflows' saves write them
(``campaign_engine.testing.seeded_book``); one more is a real campaign of the stack, whose
prices go through ``POST /prices``. With ``DASHBOARD_SCREENSHOTS=1`` it writes
``docs/dashboard-book.png``."""

import os
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import signal
from campaign_engine.testing.seeded_book import price_book, seed_book
from tests.browser.conftest import served
from tests.support.harness import Stack, settled

D = Decimal
CAMPAIGN = "AAPL-2024-10-15"  # the builders' worked story: 333 shares at 148.50
DOCS = Path(__file__).resolve().parents[2] / "docs"
TO, MINUS = "\u2013", "\u2212"  # the page's ranges and dashes, its minus sign
BOOK = 1_000


async def _not_reloaded(page: Page) -> bool:
    return bool(await page.evaluate("window.__notReloaded === true"))


async def _overflow(page: Page) -> tuple[int, int]:
    """How far the campaigns' table and the page are wider than what holds them."""
    widths = await page.evaluate(
        """() => {
          const wrap = document.querySelector("#list-slot .table-wrap");
          const page = document.documentElement;
          return [wrap.scrollWidth - wrap.clientWidth, page.scrollWidth - page.clientWidth];
        }"""
    )
    return int(widths[0]), int(widths[1])


@pytest.mark.long(seconds=40)
async def test_a_thousand_campaigns_are_all_reachable_and_marks_move(
    stack: Stack, page: Page
) -> None:
    await stack.client.submit(signal(Pattern.SPRING))  # the one live campaign
    await settled(stack, CAMPAIGN, 2)
    book = await seed_book(stack.engine, BOOK)
    # Marked apart: symbol k at 148.50 + (k mod 7) - 3, so P&L orders differ from the ids'.
    at = datetime(2024, 10, 20, tzinfo=UTC)
    await price_book(
        stack.engine, [(s.symbol, D("145.50") + k % 7) for k, s in enumerate(book)], as_of=at
    )
    rows = page.locator("#campaign-list tbody tr[data-campaign-id]")
    async with served(stack) as api, httpx.AsyncClient(base_url=api.url) as http:
        await page.goto(api.url + "/")
        # How soon: bench/stack/dashboard_bench.py. Here, however busy the machine is.
        await expect(rows.first).to_be_visible(timeout=30_000)
        await page.evaluate("window.__notReloaded = true")
        await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        await expect(rows).to_have_count(50)
        await expect(page.locator("#page-range")).to_have_text(f"1{TO}50 of 1,001")
        await expect(rows.first).to_have_attribute("data-campaign-id", book[-1].campaign_id)

        # Paging reaches the end, and back.
        await page.locator("#page-next").click()
        await expect(page.locator("#page-range")).to_have_text(f"51{TO}100 of 1,001")
        await expect(rows.first).to_have_attribute("data-campaign-id", book[-51].campaign_id)
        await page.locator("#page-prev").click()
        await expect(page.locator("#page-range")).to_have_text(f"1{TO}50 of 1,001")

        # Any campaign, found by its symbol; a prefix finds its hundred.
        for symbol in ("S0417", "s0003", "S0999"):
            await page.fill("#filter-symbol", symbol)
            await expect(rows).to_have_count(1)
            wanted = next(s for s in book if s.symbol == symbol.upper())
            await expect(rows.first).to_have_attribute("data-campaign-id", wanted.campaign_id)
        await page.fill("#filter-symbol", "s04")
        await expect(page.locator("#page-range")).to_have_text(f"1{TO}50 of 100")
        await page.fill("#filter-symbol", "S$")
        await expect(page.locator("#campaign-list")).to_contain_text("cannot start a symbol")
        await page.fill("#filter-symbol", "")
        await expect(page.locator("#page-range")).to_have_text(f"1{TO}50 of 1,001")

        # Sorted by P&L on the server, highest first, then lowest first.
        await page.locator('th button[data-sort="pnl"]').click()
        await expect(page.locator('th[aria-sort="descending"]')).to_contain_text("P&L")
        best = (D("145.50") + 6 - D("148.50")) * 333  # k mod 7 = 6: +999.00
        await expect(rows.first.locator("td.pnl")).to_have_text(f"+{best:,.2f}")
        await page.locator('th button[data-sort="pnl"]').click()
        await expect(rows.first.locator("td.pnl")).to_have_text(f"{MINUS}999.00")
        await page.locator('th button[data-sort="created"]').click()  # newest first again
        live = page.locator(f'tr[data-campaign-id="{CAMPAIGN}"]')
        await page.fill("#filter-symbol", "AAPL")
        await expect(rows).to_have_count(1)

        # A price between the live campaign's levels writes no event; its row moves anyway,
        # and says what the API says.
        pnl = live.locator("td.pnl")
        await expect(pnl).to_have_text("0.00")
        await expect(live.locator("td.last")).to_have_text(TO)  # no price yet: a dash
        as_of = datetime.now(UTC) + timedelta(seconds=1)
        answer = await http.post(
            "/api/v1/prices",
            json={"symbol": "AAPL", "as_of": as_of.isoformat(), "price": "149.25"},
        )
        assert answer.status_code == 202
        # However busy the machine (how soon: bench/stack/burst_bench.py).
        await expect(pnl).to_have_text("+249.75", timeout=30_000)  # 333 x 0.75
        await expect(live.locator("td.last")).to_have_text("149.25")
        await expect(live.locator("td.r")).to_have_text("+0.50R")
        listed = (await http.get("/api/v1/campaigns", params={"symbol": "AAPL"})).json()
        assert listed["data"][0]["mark"]["total_pnl"] == "249.75"
        assert listed["data"][0]["version"] == 2  # no change of the campaign
        # The book's marked equity moved with it: the thousand seeded (k mod 7 over 1,000
        # campaigns: -999.00) and the live one.
        await expect(page.locator("#marked-equity")).to_have_text("99,250.75", timeout=30_000)
        portfolio = (await http.get("/api/v1/portfolio")).json()
        assert portfolio["marked_equity"] == "99250.75"
        events = (await http.get(f"/api/v1/campaigns/{CAMPAIGN}/events")).json()["events"]
        assert [e["data"]["kind"] for e in events] == ["CampaignCreated", "PositionOpened"]

        # The book's history, live: the seeded campaigns' saves raised heat far past its
        # limit (each a point in market time); the live campaign's first target now realizes
        # +249.00 (166 shares x 1.50) on today's market day, drawn without a reload.
        await expect(page.locator("#heat-chart")).to_be_visible()
        await expect(page.locator("#days-chart")).to_have_count(0)  # no exit yet
        as_of = datetime.now(UTC) + timedelta(seconds=2)
        answer = await http.post(
            "/api/v1/prices",
            json={"symbol": "AAPL", "as_of": as_of.isoformat(), "price": "150.00"},
        )
        assert answer.status_code == 202
        day = page.locator("#days-chart rect.day")
        await expect(day).to_have_count(1, timeout=30_000)
        await expect(day).to_have_attribute("data-day", as_of.date().isoformat())
        await expect(day.locator("title")).to_contain_text("+249.00")
        await expect(page.locator("#equity-chart")).to_have_attribute(
            "aria-label", re.compile(r"realized 100,249\.00")
        )
        history = (await http.get("/api/v1/portfolio/history")).json()
        assert history["days"] == [{"day": as_of.date().isoformat(), "realized_pnl": "249"}]
        assert await _not_reloaded(page)

        # The campaign's chart reads in market time, with dates.
        await live.locator("a").click()
        tick = page.locator("svg.chart .time-tick").first
        await expect(tick).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z$"))
        await page.go_back()

        # The table fits its panel from a wide screen to a phone.
        await page.fill("#filter-symbol", "")
        await expect(rows).to_have_count(50)
        for width in (1920, 1440, 1366, 1280, 390):
            await page.set_viewport_size({"width": width, "height": 900})
            await page.wait_for_timeout(100)
            assert await _overflow(page) == (0, 0), f"at {width} px"
        await page.set_viewport_size({"width": 1440, "height": 900})
        if os.environ.get("DASHBOARD_SCREENSHOTS"):
            await page.screenshot(path=str(DOCS / "dashboard-book.png"))
