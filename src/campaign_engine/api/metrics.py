"""GET /metrics: the engine's figures for Prometheus (docs/monitoring.md lists them).

The book is read from the read model at each scrape, as ``GET /api/v1/portfolio`` answers it,
so the two agree; the campaigns by status, the backlogs and the entries open past their expiry
come with it (db/monitoring.py). The price flow's counters are this process's own
(runtime/price_metrics.py). Money is in the account's currency, ratios are fractions.

The book is exposed by a collector that yields what the last read found, so a series that no
longer applies (heat while equity is at or below zero, a group that carries no risk) is
absent rather than stale."""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from campaign_engine.api.services import ServicesDep
from campaign_engine.db.monitoring import Backlogs, backlogs, campaigns_by_status
from campaign_engine.db.monitoring import entries_past_expiry as read_entries_past_expiry
from campaign_engine.db.portfolio_snapshot import PortfolioSnapshot
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import CampaignStatus, TradingState

router = APIRouter(tags=["monitoring"])

_STATE = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
_PCT = Decimal(100)


@dataclass(frozen=True, slots=True)
class BookFigures:
    snapshot: PortfolioSnapshot
    policy: Policy
    by_status: dict[CampaignStatus, int]
    backlogs: Backlogs
    entries_past_expiry: int


class BookCollector(Collector):
    """What the last scrape read (None until one has)."""

    def __init__(self) -> None:
        self.figures: BookFigures | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.figures is None:
            return
        yield from _book(self.figures)


def _gauge(name: str, doc: str, value: float | Decimal) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=float(value))


def _ratio(pct: Decimal) -> float:
    return float(pct / _PCT)


def _book(figures: BookFigures) -> Iterator[GaugeMetricFamily]:
    book, policy = figures.snapshot, figures.policy
    yield _gauge("campaign_portfolio_equity", "starting equity + realized P&L", book.equity)
    yield _gauge("campaign_portfolio_marked_equity", "equity + unrealized P&L", book.marked_equity)
    yield _gauge("campaign_portfolio_open_risk", "risk at current stops", book.open_risk)
    yield _gauge("campaign_portfolio_committed_risk", "open + reserved risk", book.total_risk)
    if book.heat_pct is not None:
        yield _gauge(
            "campaign_portfolio_heat_ratio", "committed risk / equity", _ratio(book.heat_pct)
        )
    levels = GaugeMetricFamily(
        "campaign_portfolio_heat_threshold_ratio", "the policy's heat levels", labels=["level"]
    )
    levels.add_metric(["warning"], _ratio(policy.heat_warning_pct))
    levels.add_metric(["critical"], _ratio(policy.heat_critical_pct))
    levels.add_metric(["limit"], _ratio(policy.portfolio_max_heat_pct))
    yield levels
    yield from _groups(figures)
    yield _gauge(
        "campaign_portfolio_trading_state",
        "0 ACTIVE, 1 REDUCING, 2 HALTED",
        _STATE[book.trading_state],
    )
    statuses = GaugeMetricFamily("campaign_campaigns", "campaigns by status", labels=["status"])
    for status, count in figures.by_status.items():
        statuses.add_metric([status.value], count)
    yield statuses
    waiting = figures.backlogs
    yield _gauge(
        "campaign_price_intake_waiting",
        "accepted updates no bar has taken yet",
        waiting.intake_waiting,
    )
    yield _gauge(
        "campaign_outbox_waiting", "audit entries not yet announced", waiting.outbox_waiting
    )
    yield _gauge(
        "campaign_outbox_oldest_age_seconds",
        "age of the oldest audit entry not yet announced",
        waiting.outbox_oldest_age,
    )
    yield _gauge(
        "campaign_orders_open_past_expiry",
        "entry orders still open after their expiry (market time)",
        figures.entries_past_expiry,
    )


def _groups(figures: BookFigures) -> Iterator[GaugeMetricFamily]:
    """Named groups (the policy's, a bounded set) by name; every group in the maximum."""
    book, policy = figures.snapshot, figures.policy
    named = set(policy.correlation_groups.values())
    risk = GaugeMetricFamily(
        "campaign_correlation_group_risk", "committed risk of the group", labels=["group"]
    )
    ratio = GaugeMetricFamily(
        "campaign_correlation_group_risk_ratio", "the group's risk / equity", labels=["group"]
    )
    largest = Decimal(0)
    for group in book.by_group:
        if group.risk_pct is not None:
            largest = max(largest, group.risk_pct)
        if group.correlation_group in named:
            risk.add_metric([group.correlation_group], float(group.total_risk))
            if group.risk_pct is not None:
                ratio.add_metric([group.correlation_group], _ratio(group.risk_pct))
    yield risk
    yield ratio
    yield _gauge(
        "campaign_correlation_group_risk_max_ratio",
        "the largest group's risk / equity",
        _ratio(largest),
    )
    yield _gauge(
        "campaign_correlation_group_limit_ratio",
        "the policy's correlated risk limit",
        _ratio(policy.correlated_max_risk_pct),
    )


BOOK = BookCollector()
REGISTRY.register(BOOK)


# A read, open like every read (GET /portfolio answers the same figures).
@router.get("/metrics", include_in_schema=False)  # Prometheus' text format: docs/monitoring.md
async def metrics(services: ServicesDep) -> Response:
    policy = services.client.policy
    snapshot = await services.read_model.portfolio(policy)
    async with services.engine.connect() as conn:
        by_status = await campaigns_by_status(conn)
        waiting = await backlogs(conn)
        late = await read_entries_past_expiry(conn, policy)
    BOOK.figures = BookFigures(snapshot, policy, by_status, waiting, late)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
