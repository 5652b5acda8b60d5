"""The backtest report in a real browser: the page draws every chart from the data it carries
(equity, heat, and each campaign's bars with its entries, exits, stops and targets), with no
script error and nothing fetched."""

from pathlib import Path

from playwright.async_api import Page

from campaign_engine.backtest.engine import run_backtest
from campaign_engine.backtest.report import build_report
from campaign_engine.backtest.report_html import write_html
from campaign_engine.backtest.sources import scenario_timeline
from campaign_engine.scenarios import load_scenario


async def test_the_report_draws_every_chart(page: Page, tmp_path: Path) -> None:
    timeline = scenario_timeline(load_scenario())
    run = run_backtest(timeline)
    report = build_report(run, timeline)
    html = write_html(report, run, timeline, tmp_path / "report.html")
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    await page.goto(html.as_uri())
    charts = page.locator("div.chart svg")
    assert await charts.count() == 2 + len(report.campaigns)
    assert await page.locator("div.chart:not(:has(svg))").count() == 0
    equity, heat = charts.nth(0), charts.nth(1)
    assert await equity.get_attribute("aria-label") == "Equity"
    assert await equity.locator("path").count() == 2  # the area and the line
    assert await heat.locator("text.tag").text_content() == "limit 10.0%"
    for n, campaign in enumerate(report.campaigns):
        chart = charts.nth(2 + n)
        assert await chart.get_attribute("aria-label") == f"{campaign.campaign_id} bars"
        assert await chart.locator("rect").count() > 10  # the candles
        titles = await chart.locator("title").all_text_contents()
        for entry in campaign.entries:
            assert f"{entry.pattern} {entry.shares} @ {entry.price}" in titles
            assert f"{entry.pattern} stop {entry.initial_stop}" in titles
            assert all(f"target {t}" in titles for t in entry.targets)
        for exit_ in campaign.exits:
            assert any(t.startswith(f"{exit_.reason} {exit_.pattern} ") for t in titles)
    assert fetched == [html.as_uri()]
