"""The dashboard with a real book: from navigation to the campaigns' first row in chromium, and
the reads behind it, with 1,000 campaigns (beside 10: the raw anchor, the same work on a small
book, measured in the same run).

    .venv/bin/python -m bench.stack.dashboard_bench [--campaigns 1000] [--loads 5] [--notes T]

A dev server, a fresh database, the API in this process; the book is written into the read
model as the workflows' saves write it (``campaign_engine.testing.seeded_book``), every
campaign holding shares and priced (so each is marked). Chromium is Debian's
(``/usr/bin/chromium``), driven by Playwright. Each page load is a fresh browser context; each
API read is timed over ``--calls`` calls, its CPU this process's (the API's) per call.
"""

import argparse
import asyncio
import time
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from playwright.async_api import Browser, async_playwright

from bench.record import Anchor, Figure, add_notes_argument, record
from bench.scale.scale_stack import stack
from bench.stack.decision_cost import percentile
from bench.stack.served_api import served_api
from campaign_engine.db.engine import create_engine_for
from campaign_engine.domain.policy import Policy
from campaign_engine.testing.seeded_book import price_book, seed_book

CHROMIUM = "/usr/bin/chromium"
SMALL = 10
READS = {
    "GET /campaigns (a page, newest first)": "/api/v1/campaigns?limit=50",
    "GET /campaigns (sorted by P&L)": "/api/v1/campaigns?limit=50&sort=-pnl",
    "GET /portfolio": "/api/v1/portfolio",
    "GET /portfolio/history": "/api/v1/portfolio/history",
}


async def _first_rows(browser: Browser, url: str, loads: int) -> list[float]:
    seconds = []
    for _ in range(loads):
        context = await browser.new_context(viewport={"width": 1440, "height": 900})
        page = await context.new_page()
        started = time.perf_counter()
        await page.goto(url + "/")
        await page.locator("#campaign-list tbody tr[data-campaign-id]").first.wait_for()
        seconds.append(time.perf_counter() - started)
        await context.close()
    return seconds


async def _reads(url: str, calls: int) -> dict[str, tuple[float, float]]:
    """Per read: p50 wall seconds and CPU seconds per call of this process."""
    timed = {}
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        for name, path in READS.items():
            assert (await http.get(path)).status_code == 200, path
            walls = []
            cpu = time.process_time()
            for _ in range(calls):
                started = time.perf_counter()
                answer = await http.get(path)
                walls.append(time.perf_counter() - started)
                assert answer.status_code == 200
            timed[name] = (percentile(walls, 50), (time.process_time() - cpu) / calls)
    return timed


async def main(count: int, loads: int, calls: int) -> list[Figure]:
    print(f"dashboard: {count} campaigns (anchor {SMALL}), {loads} page loads, {calls} calls")
    figures = []
    measured: dict[int, tuple[list[float], dict[str, tuple[float, float]]]] = {}
    async with (
        stack(Decimal(100_000), Policy()) as stack_,
        served_api(stack_, stack_.client(stack_.settings())) as http,
    ):
        url = str(http.base_url).rstrip("/")
        engine = create_engine_for(stack_.url, pool_size=1)
        at = datetime.now(UTC)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox"]
            )
            seeded = 0
            for size in (SMALL, count):  # the anchor's book first, then grown to the full one
                book = await seed_book(engine, size - seeded, first=seeded)
                seeded = size
                await price_book(engine, [(b.symbol, Decimal("150")) for b in book], as_of=at)
                measured[size] = (await _first_rows(browser, url, loads), await _reads(url, calls))
            await browser.close()
        await engine.dispose()
    small_rows, small_reads = measured[SMALL]
    rows, reads = measured[count]
    anchor = Anchor(f"first row, {SMALL} campaigns p50", 1000 * percentile(small_rows, 50), "ms")
    for name, value in (("p50", percentile(rows, 50)), ("max", max(rows))):
        figures.append(
            Figure(f"first row, {count} campaigns {name}", 1000 * value, "ms", None, anchor)
        )
    print(
        f"  first row: {count}: " + ", ".join(f"{1000 * s:.0f}" for s in rows) + " ms; "
        f"{SMALL}: " + ", ".join(f"{1000 * s:.0f}" for s in small_rows) + " ms"
    )
    for name in READS:
        (wall, cpu), (small_wall, small_cpu) = reads[name], small_reads[name]
        print(
            f"  {name}: {count}: {1000 * wall:.1f} ms, CPU {1000 * cpu:.1f} ms; "
            f"{SMALL}: {1000 * small_wall:.1f} ms, CPU {1000 * small_cpu:.1f} ms"
        )
        figures.append(
            Figure(
                f"{name}, {count} campaigns",
                1000 * wall,
                "ms",
                1e6 * cpu,
                Anchor(f"{SMALL} campaigns", 1000 * small_wall, "ms"),
            )
        )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20)
    add_notes_argument(parser)
    args = parser.parse_args()
    figures = asyncio.run(main(args.campaigns, args.loads, args.calls))
    record("dashboard_bench", "stack", figures, args.notes)
