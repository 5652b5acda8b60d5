"""The engine's metrics as an operator reads them: a real Prometheus (Debian's) scrapes the API
and the worker of ``campaigns dev --demo`` while the demo plays, with the alert rules shipped
in monitoring/; what it holds agrees with what the REST API answers, and the heat alert fires
once entries take heat past the warning level."""

import contextlib
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.testing.builders import signal, trading_range
from tests.support import prometheus
from tests.support.dev_stack import CLI, DevStack, free_port
from tests.support.harness import eventually

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "monitoring" / "alerts.yml"
DEMO_DONE = "The stack keeps running"
pytestmark = pytest.mark.skipif(not prometheus.available(), reason=prometheus.MISSING)


async def _all_campaigns(http: httpx.AsyncClient) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    while True:
        page = await http.get("/api/v1/campaigns", params={"limit": 100, "offset": len(rows)})
        rows += page.json()["data"]
        if not page.json()["pagination"]["has_more"]:
            return rows


async def _refusals(http: httpx.AsyncClient) -> int:
    """The refused entries, those that never made a campaign included."""
    page = (await http.get("/api/v1/decisions", params={"approved": "false", "limit": 1})).json()
    total: int = page["pagination"]["total_count"]
    return total


async def _heat_past_warning(http: httpx.AsyncClient) -> int:
    """Springs on symbols of their own until the heat passes the warning level; a duplicate
    Spring besides, refused. How many entries were refused."""
    warning = Decimal((await http.get("/api/v1/policy")).json()["heat_warning_pct"])
    refused = 0
    plans = []
    for n in range(8):
        heat = (await http.get("/api/v1/portfolio")).json()["heat_pct"]
        if heat is not None and Decimal(heat) >= warning:
            break
        rng = trading_range(symbol=f"HEAT{n}", range_id=uuid4())
        # The Spring's whole share of its campaign's budget (40% of 5%): 2% each.
        entry = signal(Pattern.SPRING, rng=rng, requested_risk_pct="2").model_dump(mode="json")
        plan = (await http.post("/api/v1/signals", json=entry)).json()
        plans.append((heat, plan))
        refused += not plan["approved"]
        if n == 0:  # the same pattern again in the same range: refused
            again = signal(Pattern.SPRING, rng=rng).model_dump(mode="json")
            plan = (await http.post("/api/v1/signals", json=again)).json()
            assert plan["rejection_code"] == "DUPLICATE_PATTERN", plan
            refused += 1
    else:
        raise AssertionError(f"the heat never passed the warning level: {plans}")
    return refused


@pytest.mark.long(seconds=90)
async def test_prometheus_holds_what_the_api_answers_and_the_heat_alert_fires(
    dev_stack: DevStack, tmp_path: Path
) -> None:
    worker_port, prometheus_port = free_port(), free_port()
    # The shipped rules, with every `for:` cut to 2 s: the expressions are what is checked
    # here against real figures; how long each waits is promtool's to test (test_alert_rules).
    rules = tmp_path / "alerts.yml"
    rules.write_text(re.sub(r"(?m)^(\s+for:)\s*\S+", r"\1 2s", ALERTS.read_text()))
    environment = {"METRICS_PORT": str(worker_port)}
    async with contextlib.AsyncExitStack() as running:
        # The stack first: its ports are known once it is up (taken ones are picked again).
        await running.enter_async_context(
            dev_stack.running((str(CLI),), "--demo", "--speed", "60", environment=environment)
        )
        jobs = [
            prometheus.Job("campaign-engine-api", f"127.0.0.1:{dev_stack.api_port}"),
            prometheus.Job("campaign-engine-worker", f"127.0.0.1:{worker_port}"),
        ]
        config = prometheus.configuration(jobs, [rules])
        server = await running.enter_async_context(
            prometheus.running_prometheus(tmp_path, config, prometheus_port)
        )
        http = await running.enter_async_context(
            httpx.AsyncClient(base_url=dev_stack.api, timeout=30)
        )

        async def scraped_while_playing() -> bool:
            up = await server.query("up")
            return len(up) == 2 and all(value == 1 for _, value in up)

        await eventually(scraped_while_playing, timeout=60)
        printed = dev_stack.output.read_text()  # where to point a Prometheus, as printed
        assert f"{dev_stack.api}/metrics" in printed
        assert f"http://127.0.0.1:{worker_port}/metrics" in printed

        async def demo_done() -> bool:
            return DEMO_DONE in dev_stack.output.read_text()

        await eventually(demo_done, timeout=120)
        assert await _heat_past_warning(http) >= 1  # and the demo refused two for heat

        seen: dict[str, object] = {}

        async def agrees() -> bool:
            book = (await http.get("/api/v1/portfolio")).json()
            heat = await server.query("campaign_portfolio_heat_ratio")
            seen["heat"] = (book["heat_pct"], heat)
            by_status = Counter(str(r["status"]) for r in await _all_campaigns(http))
            shown = {s["status"]: v for s, v in await server.query("campaign_campaigns")}
            answered = {status.value: float(by_status[status.value]) for status in CampaignStatus}
            seen["statuses"] = (answered, shown)
            refused = await server.query('sum(campaign_decisions_total{outcome="rejected"})')
            answered_refusals = await _refusals(http)
            seen["refused"] = (answered_refusals, refused)
            return (
                bool(heat)
                and abs(heat[0][1] * 100 - float(book["heat_pct"])) < 1e-9
                and shown == answered
                and bool(refused)
                and refused[0][1] == answered_refusals
            )

        try:
            await eventually(agrees, timeout=30)
        except AssertionError:
            raise AssertionError(f"Prometheus and the API disagree: {seen}") from None

        async def heat_alert_fires() -> bool:
            return any(
                alert["labels"] == alert["labels"] | {"alertname": "PortfolioHeatWarning"}
                and alert["state"] == "firing"
                for alert in await server.alerts()
                if isinstance(alert["labels"], dict)
            )

        await eventually(heat_alert_fires, timeout=60)
        # Beside the book: the price flow the demo made, and what the worker did.
        for flowed in (
            'campaign_price_updates_total{outcome="accepted"}',
            "campaign_price_acceptance_delay_seconds_count",
            "campaign_price_delivery_seconds_count",
            "campaign_prices_delivered_total",
            "sum(campaign_entries_total)",
            'sum(campaign_fills_total{side="exit"})',
            "sum(campaign_exits_total)",
            "campaign_portfolio_lock_wait_seconds_count",
            "campaign_holdings_reconciler_rounds_total",
        ):
            found = await server.query(flowed)
            assert found and all(value > 0 for _, value in found), (flowed, found)
