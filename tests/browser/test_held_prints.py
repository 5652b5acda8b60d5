"""Bad prints on the dashboard (SPEC section 11): while a price update is held back, a line
under the header names it; once the next price refutes it, the line goes."""

from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import served
from tests.support.harness import Stack

HELD_EVERY_MS = 12_000  # the page reads /prices/held every 5 s


def _tick(price: str, seconds: int) -> dict[str, str]:
    as_of = datetime.now(UTC) + timedelta(seconds=seconds)
    return {"symbol": "AAPL", "as_of": as_of.isoformat(), "price": price}


async def test_a_held_print_is_shown_until_the_next_price_refutes_it(
    stack: Stack, page: Page
) -> None:
    async with served(stack) as api, httpx.AsyncClient(base_url=api.url) as http:
        await page.goto(api.url + "/")
        banner = page.locator("#held-prints")
        await expect(banner).to_be_hidden()
        for price, seconds in (("148.60", 0), ("0.01", 1)):
            assert (await http.post("/api/v1/prices", json=_tick(price, seconds))).is_success
        await expect(banner).to_be_visible(timeout=HELD_EVERY_MS)
        await expect(banner).to_contain_text("1 price update(s) held as bad prints")
        await expect(banner).to_contain_text("AAPL 0.01 at ")
        await expect(banner).to_contain_text("last accepted 148.6")
        assert (await http.post("/api/v1/prices", json=_tick("148.70", 2))).is_success
        await expect(banner).to_be_hidden(timeout=HELD_EVERY_MS)
