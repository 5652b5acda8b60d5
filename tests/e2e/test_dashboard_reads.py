"""What the dashboard reads besides the JSON it shares with everyone: its own files, served at
``/`` from the package, and a campaign's price bars for its chart."""

from datetime import UTC, datetime, timedelta

import httpx

from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import signal
from tests.e2e.api_fixtures import CAMPAIGN, UNKNOWN, V1, ok, submit
from tests.support.harness import Stack, settled


async def test_the_dashboard_is_served_at_the_root(api: httpx.AsyncClient) -> None:
    page = await api.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/dashboard/app.js">' in page.text
    for asset, kind in (
        ("app.js", "javascript"),
        ("live.js", "javascript"),
        ("views.js", "javascript"),
        ("chart.js", "javascript"),
        ("format.js", "javascript"),
        ("style.css", "text/css"),
    ):
        served = await api.get(f"/dashboard/{asset}")
        assert served.status_code == 200, asset
        assert kind in served.headers["content-type"], asset
    assert (await api.get("/dashboard/nothing.js")).status_code == 404


async def test_a_campaign_s_bars_are_its_symbol_s_prices(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    await submit(api, signal(Pattern.SPRING))
    await settled(stack, CAMPAIGN, 2)
    start = datetime.now(UTC)
    at = [(start + timedelta(seconds=n)).isoformat() for n in range(3)]
    prices = [
        {"symbol": "AAPL", "as_of": at[0], "price": "149.25"},
        {"symbol": "MSFT", "as_of": at[0], "price": "420"},
        {"symbol": "AAPL", "as_of": at[1], "open": "149.25", "high": "151", "low": "149",
         "close": "150.5"},
        {"symbol": "AAPL", "as_of": at[2], "price": "150.75"},
    ]  # fmt: skip
    await ok(await api.post(f"{V1}/prices", json=prices), 202)

    bars = await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}/bars"))
    assert (bars["campaign_id"], bars["symbol"]) == (CAMPAIGN, "AAPL")
    assert [(b["open"], b["high"], b["low"], b["close"]) for b in bars["bars"]] == [
        ("149.25", "149.25", "149.25", "149.25"),
        ("149.25", "151", "149", "150.5"),
        ("150.75", "150.75", "150.75", "150.75"),
    ]
    assert all(b["as_of"].endswith("Z") for b in bars["bars"])
    newest = await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}/bars?limit=1"))
    assert [b["close"] for b in newest["bars"]] == ["150.75"]
    assert (await api.get(f"{V1}/campaigns/{CAMPAIGN}/bars?limit=0")).status_code == 422
    assert (await api.get(f"{V1}/campaigns/{UNKNOWN}/bars")).status_code == 404
