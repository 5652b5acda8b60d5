"""The price flow's metrics in the API process (Prometheus, served by ``GET /metrics``): what
``POST /prices`` took and how late, and how long the delivering process took to get each bar
to its campaigns. Names and meanings: docs/monitoring.md.

Delays are measured on this machine's clock, not the market's: they say how the engine keeps
up, and decide nothing (a campaign's clock is its bars' market time)."""

import time
from collections.abc import Sequence

from prometheus_client import Counter, Histogram

from campaign_engine.domain.market import PriceUpdate

PRICE_UPDATES = Counter(
    "campaign_price_updates",
    "price updates POST /prices took, by what became of them (too_old are accepted too)",
    ["outcome"],
)
ACCEPTANCE_DELAY = Histogram(
    "campaign_price_acceptance_delay_seconds",
    "from an update's as_of (market time) to its acceptance",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400),
)
DELIVERY_DELAY = Histogram(
    "campaign_price_delivery_seconds",
    "from an update's acceptance to Temporal taking its bar's signal for a campaign",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
PRICES_DELIVERED = Counter("campaign_prices_delivered", "bars sent to campaigns")
for _outcome in ("accepted", "too_old", "held"):
    PRICE_UPDATES.labels(_outcome)  # each series exists from the start, at 0


def accepted(taken: Sequence[PriceUpdate], too_old: int, held: int) -> None:
    """One append of ``POST /prices`` (or a release of a held update): ``taken`` entered the
    intake, ``too_old`` of them after their symbol's newest bar, ``held`` were held back."""
    now = time.time()
    PRICE_UPDATES.labels("accepted").inc(len(taken))
    PRICE_UPDATES.labels("too_old").inc(too_old)
    PRICE_UPDATES.labels("held").inc(held)
    for update in taken:
        ACCEPTANCE_DELAY.observe(max(0.0, now - update.as_of.timestamp()))


def delivered(accepted_at: float | None) -> None:
    """A bar reached a campaign (Temporal took the signal); ``accepted_at``: when its oldest
    update was accepted (None for a bar sent again to a campaign that missed it)."""
    PRICES_DELIVERED.inc()
    if accepted_at is not None:
        DELIVERY_DELAY.observe(max(0.0, time.time() - accepted_at))


MARKET_DATA_BARS = Counter(
    "campaign_market_data_bars",
    "bars a market-data feed read, by what became of them",
    ["outcome"],
)
MARKET_DATA_ERRORS = Counter(
    "campaign_market_data_errors",
    "errors a market-data stream answered, by kind (credentials, subscription, ...)",
    ["kind"],
)
for _outcome in ("taken", "refused", "correction_ignored"):
    MARKET_DATA_BARS.labels(_outcome)
