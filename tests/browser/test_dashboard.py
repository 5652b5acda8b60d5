"""The dashboard as a person sees it, in chromium, while the stack moves underneath: the demo
played and followed without a reload, a campaign invalidated through its button, and the page
coming back by itself after the API went away, with what it missed.

With ``DASHBOARD_SCREENSHOTS=1`` the demo test also writes the screenshots in docs/
(``docs/dashboard-campaigns.png``, ``docs/dashboard-campaign.png``), with the demo played
slower so that they catch campaigns in every status."""

import asyncio
import io
import os
import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect
from pydantic import SecretStr
from rich.console import Console

from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.scenarios import load_scenario
from campaign_engine.scenarios.play import play
from campaign_engine.testing.builders import signal
from tests.browser.conftest import served
from tests.support.harness import Stack, persisted_status, settled

CAMPAIGN = "AAPL-2024-10-15"  # the builders' worked story
DOCS = Path(__file__).resolve().parents[2] / "docs"
LONG = 90_000  # ms: the demo under a loaded machine


async def _mark_page(page: Page) -> None:
    """A mark that a reload would wipe: the tests check it is still there at the end."""
    await page.evaluate("window.__notReloaded = true")


async def _not_reloaded(page: Page) -> bool:
    return bool(await page.evaluate("window.__notReloaded === true"))


async def _fits_a_phone(page: Page) -> None:
    """At 390 pixels wide the page needs no sideways scrolling (wide tables scroll inside
    their own panel), then back to 1280."""
    await page.set_viewport_size({"width": 390, "height": 844})
    try:
        await page.wait_for_timeout(300)  # the chart is drawn again at the new width
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow} px wider than a 390 px screen"
    finally:
        await page.set_viewport_size({"width": 1280, "height": 900})


async def _campaign_in_flight(page: Page, prefix: str) -> None:
    """The docs' picture of a campaign while it runs (stops and targets still on the
    chart), from a second tab so that the first keeps following the demo."""
    campaign_id = await page.locator(f'tr[data-campaign-id^="{prefix}"]').get_attribute(
        "data-campaign-id"
    )
    tab = await page.context.new_page()
    try:
        await tab.goto(page.url.split("#")[0] + f"#/campaigns/{campaign_id}")
        await expect(tab.locator("svg.chart .mark.entry")).to_have_count(3)
        await tab.screenshot(path=str(DOCS / "dashboard-campaign.png"), full_page=True)
    finally:
        await tab.close()


@pytest.mark.long(seconds=31)
async def test_the_page_follows_the_demo_without_reload(stack: Stack, page: Page) -> None:
    screenshots = bool(os.environ.get("DASHBOARD_SCREENSHOTS"))
    async with served(stack) as api:
        await page.goto(api.url + "/")
        await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        await expect(page.locator("#campaign-list")).to_contain_text("No campaigns yet")
        await _mark_page(page)
        console = Console(file=io.StringIO(), width=160)
        speed = 10.0 if screenshots else 40.0
        demo = asyncio.create_task(
            play(load_scenario(), api_url=api.url, token=None, speed=speed, console=console)
        )
        try:
            nvda = page.locator('tr[data-campaign-id^="NVDA-"] td.st [data-status]')
            await expect(nvda).to_have_attribute("data-status", "INVALIDATED", timeout=LONG)
            if screenshots:
                await page.screenshot(path=str(DOCS / "dashboard-campaigns.png"), full_page=True)
                await _campaign_in_flight(page, "AAPL-")
            aapl = page.locator('tr[data-campaign-id^="AAPL-"] td.st [data-status]')
            await expect(aapl).to_have_attribute("data-status", "COMPLETED", timeout=LONG)
            summaries = await demo
        finally:
            demo.cancel()
        assert all(s.as_expected for s in summaries)
        # Every campaign the demo made is listed with the status it ended in, as it happened.
        for s in summaries:
            row = page.locator(f'tr[data-campaign-id="{s.campaign_id}"]')
            if s.status == "NOT_CREATED":  # refused for heat: no campaign to list
                await expect(row).to_have_count(0)
                continue
            await expect(row.locator("td.st [data-status]")).to_have_attribute(
                "data-status", s.status
            )
        await expect(page.locator("#alert-level")).to_have_text("NORMAL")
        await expect(page.locator("#trading-state")).to_have_text("ACTIVE")
        await expect(page.locator("#equity-alert")).to_have_count(0)
        assert await _not_reloaded(page)

        # Filters: by status, by symbol (any case), and both cleared again.
        rows = page.locator("#campaign-list tbody tr[data-campaign-id]")
        created = sum(s.status != "NOT_CREATED" for s in summaries)
        await page.select_option("#filter-status", "INVALIDATED")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_have_attribute("data-campaign-id", re.compile("^NVDA-"))
        await page.select_option("#filter-status", "")
        await page.fill("#filter-symbol", "aapl")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_have_attribute("data-campaign-id", re.compile("^AAPL-"))
        await page.fill("#filter-symbol", "")
        await expect(rows).to_have_count(created)
        await _fits_a_phone(page)

        aapl_id = next(s.campaign_id for s in summaries if s.symbol == "AAPL")
        await page.locator(f'tr[data-campaign-id="{aapl_id}"] a').click()
        await expect(page.locator("#campaign-title")).to_have_text(str(aapl_id))
        await expect(page.locator(".bmad-part.taken")).to_have_count(3)
        await expect(page.locator("#invalidate")).to_be_disabled()  # COMPLETED
        await expect(page.locator(".positions tr.closed")).to_have_count(3)
        await expect(page.locator("svg.chart .mark.entry")).to_have_count(3)
        await expect(page.locator("#timeline li").first).to_have_attribute(
            "data-kind", "CampaignCompleted"
        )
        await _fits_a_phone(page)
        assert await _not_reloaded(page)


async def test_a_campaign_is_invalidated_through_its_button(stack: Stack, page: Page) -> None:
    token = "dashboard-s3cret"
    settings = stack.settings.model_copy(update={"api_token": SecretStr(token)})
    async with served(stack, settings) as api:
        async with httpx.AsyncClient(
            base_url=api.url, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            spring = signal(Pattern.SPRING).model_dump(mode="json")
            assert (await http.post("/api/v1/signals", json=spring)).status_code == 200
        await settled(stack, CAMPAIGN, 2)

        await page.goto(f"{api.url}/#/campaigns/{CAMPAIGN}")
        # No token yet: the stream refuses, and the page asks for one.
        await expect(page.locator("#connection")).to_have_attribute("data-state", "unauthorized")
        await expect(page.locator("#token-dialog")).to_be_visible()
        await page.fill("#token-input", token)
        await page.click("#token-dialog button[value=save]")
        await expect(page.locator("#connection")).to_have_attribute("data-state", "live")

        button = page.locator("#invalidate")
        await expect(button).to_be_enabled()  # ACTIVE
        await button.click()
        dialog = page.locator("#invalidate-dialog")
        await expect(dialog).to_be_visible()
        await page.click("#invalidate-dialog button[value=cancel]")  # changed my mind
        await expect(dialog).to_be_hidden()
        await expect(page.locator(".campaign-head [data-status]").first).to_have_attribute(
            "data-status", "ACTIVE"
        )

        await button.click()
        await page.fill("#invalidate-reason", "range broken on news")
        await page.click("#invalidate-confirm")
        await expect(dialog).to_be_hidden()
        head = page.locator(".campaign-head [data-status]").first
        await expect(head).to_have_attribute("data-status", "INVALIDATED")
        await expect(page.locator(".reason")).to_contain_text("range broken on news")
        await expect(page.locator("#invalidate")).to_be_disabled()
        await expect(page.locator('#timeline li[data-kind="CampaignInvalidated"]')).to_have_count(1)
        await persisted_status(stack, CAMPAIGN, CampaignStatus.INVALIDATED)


async def test_the_page_recovers_from_a_lost_api_with_what_it_missed(
    stack: Stack, page: Page
) -> None:
    async with served(stack) as api:
        await page.goto(api.url + "/")
        await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        await _mark_page(page)
        await stack.client.submit(signal(Pattern.SPRING))
        badge = page.locator(f'tr[data-campaign-id="{CAMPAIGN}"] td.st [data-status]')
        await expect(badge).to_have_attribute("data-status", "ACTIVE")

        await api.stop()  # the API is gone: its socket drops
        await expect(page.locator("#connection")).to_have_attribute("data-state", "offline")
        # Meanwhile the campaign moves on: the SOS fills and takes it into MARKUP.
        await stack.client.submit(signal(Pattern.SOS))
        await persisted_status(stack, CAMPAIGN, CampaignStatus.MARKUP)
        await asyncio.sleep(1.0)
        await expect(badge).to_have_attribute("data-status", "ACTIVE")  # nothing to tell it

        await api.start()  # back on the same port: the page reconnects by itself
        await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        await expect(badge).to_have_attribute("data-status", "MARKUP")
        assert await _not_reloaded(page)

        await page.locator(f'tr[data-campaign-id="{CAMPAIGN}"] a').click()
        timeline = page.locator("#timeline")
        await expect(timeline.locator('li[data-kind="PositionOpened"]')).to_have_count(2)
        await expect(timeline.locator('li[data-kind="StatusChanged"]')).to_have_count(1)


async def test_the_page_works_under_its_policy(
    stack: Stack, page: Page, policy_violations: list[str]
) -> None:
    # The page fixture fails the test on any violation: the dashboard, a campaign's page
    # and /docs all run without one.
    await stack.client.submit(signal(Pattern.SPRING))
    await settled(stack, CAMPAIGN, 2)
    async with served(stack) as api:
        answer = await page.goto(api.url + "/")
        assert answer is not None
        policy = await answer.header_value("content-security-policy")
        assert policy is not None and "script-src 'self';" in policy
        await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
        # The meters are sized through the DOM (a style attribute would be refused).
        campaign_risk = page.locator("#portfolio ul.bars .meter .fill").first
        await expect(campaign_risk).to_have_attribute("data-width", re.compile(r"^[0-9.]+$"))
        width = await campaign_risk.evaluate("(fill) => fill.style.width")
        assert width == f"{await campaign_risk.get_attribute('data-width')}%"
        # Open and committed risk, labelled apart: the Spring filled, so both are its 0.4995%.
        await expect(page.locator("#portfolio")).to_contain_text("Committed risk by campaign")
        row = page.locator(f'tr[data-campaign-id="{CAMPAIGN}"]')
        await expect(row.locator("td.risk")).to_have_text("0.50%")
        await expect(row.locator("td.committed")).to_have_text("0.50%")
        await expect(page.locator("#campaign-list th.committed")).to_have_text("Committed")
        await page.locator(f'tr[data-campaign-id="{CAMPAIGN}"] a').click()
        await expect(page.locator("#campaign-title")).to_have_text(CAMPAIGN)
        await expect(page.locator("#current-risk")).to_have_text("0.50%")
        await expect(page.locator("#committed-risk")).to_have_text("0.50%")
        await page.go_back()
        await _mark_page(page)
        await page.locator("#filter-symbol").press("Enter")  # the form is never sent
        await expect(page.locator("#campaign-list")).to_be_visible()
        assert await _not_reloaded(page)

        # The listener hears what the policy refuses: a script of another site.
        await page.evaluate(
            """() => { const s = document.createElement("script");
            s.src = "https://cdn.example/x.js"; document.body.append(s); }"""
        )
        for _ in range(50):
            if policy_violations:
                break
            await page.wait_for_timeout(100)
        await page.wait_for_timeout(500)  # the console's report of it too
        assert policy_violations and all("cdn.example" in v for v in policy_violations)
        policy_violations.clear()

        await page.goto(api.url + "/docs")
        await expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
        assert await page.locator(".opblock").count() >= 10
        await page.locator(".opblock-summary").first.click()  # its schemas and examples
        await expect(page.locator(".opblock-body").first).to_be_visible()
        await page.locator(".models-control, .models h4").first.click()
        await page.wait_for_timeout(500)
