"""A scripted Spring -> SOS -> LPS campaign played through the pure domain and printed.

It drives the aggregate the way the workflow will: decide, place the orders with the paper
fill model, book the fills, evaluate each bar, and print every decision, order and event.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from rich.console import Console
from rich.table import Table

from campaign_engine.domain.campaign import Outcome, apply_fill, decide_entry, exposure_of, on_price
from campaign_engine.domain.events import CampaignEvent
from campaign_engine.domain.ledger import position_r_multiple, summarize
from campaign_engine.domain.limits import PortfolioView
from campaign_engine.domain.market import EntrySignal, PriceUpdate, TradingRange
from campaign_engine.domain.orders import paper_fill
from campaign_engine.domain.policy import DEFAULT_POLICY, Policy
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import Pattern

D = Decimal
START = datetime(2024, 10, 15, 14, 30, tzinfo=UTC)
AAPL_RANGE = TradingRange(
    id=UUID("5f0c6a52-8d1e-4c8e-9b7a-2f3d4e5a6b01"),
    symbol="AAPL",
    timeframe="1h",
    start_time=START,
    creek=D("145.00"),
    ice=D("150.00"),
    jump=D("156.00"),
)


def _signal(n: int, pattern: Pattern, entry: str, stop: str, confidence: int) -> EntrySignal:
    return EntrySignal(
        signal_id=UUID(int=n),
        symbol="AAPL",
        timeframe="1h",
        trading_range=AAPL_RANGE,
        pattern=pattern,
        entry_price=D(entry),
        stop_loss=D(stop),
        confidence=D(confidence),
        r_multiple=D("3.0"),
        generated_at=START + timedelta(hours=n),
    )


def _bar(hour: int, o: str, h: str, low: str, c: str) -> PriceUpdate:
    return PriceUpdate(
        symbol="AAPL",
        as_of=START + timedelta(hours=hour),
        open=D(o),
        high=D(h),
        low=D(low),
        close=D(c),
    )


SCRIPT: tuple[EntrySignal | PriceUpdate, ...] = (
    _bar(1, "148.40", "148.70", "147.60", "148.50"),
    _signal(2, Pattern.SPRING, "148.50", "147.00", 78),
    _bar(3, "148.60", "150.40", "148.55", "150.30"),  # Spring's first target, the ice
    _signal(4, Pattern.SOS, "150.25", "148.75", 84),
    _bar(5, "151.30", "151.40", "150.90", "151.10"),
    _signal(6, Pattern.LPS, "151.00", "149.50", 80),
    _bar(7, "151.20", "156.20", "151.10", "155.90"),  # jump: second/first targets
    _bar(8, "156.10", "159.10", "155.80", "158.70"),
    _bar(9, "158.80", "162.50", "158.50", "162.20"),  # ice + 2M: the last targets
)


@dataclass
class Walkthrough:
    policy: Policy = DEFAULT_POLICY
    state: CampaignState = field(default_factory=lambda: CampaignState.for_range(AAPL_RANGE))
    events: list[CampaignEvent] = field(default_factory=list)

    def portfolio(self) -> PortfolioView:
        realized = self.state.realized_pnl
        exposures = [exposure_of(self.state)] if self.state.exists else []
        return PortfolioView.of(self.policy.starting_equity + realized, exposures)

    def carry_out(self, outcome: Outcome, now: datetime) -> list[str]:
        """Book the outcome and fill its orders at once, as the paper broker does."""
        self.state = outcome.state
        self.events.extend(outcome.events)
        lines = []
        for order in outcome.orders:
            what = f"{order.side.value} {order.quantity} @ {order.expected_price}"
            lines.append(f"{what} ({order.purpose.value})")
            filled = apply_fill(self.state, paper_fill(order, now), now)
            self.state = filled.state
            self.events.extend(filled.events)
        return lines

    def step(self, item: EntrySignal | PriceUpdate) -> tuple[str, str, list[str]]:
        if isinstance(item, EntrySignal):
            now = item.generated_at
            outcome = decide_entry(self.state, item, self.portfolio(), self.policy, now)
            plan = outcome.plan
            assert plan is not None
            verdict = (
                f"approved {plan.shares} shares, risk {plan.risk_amount} "
                f"({plan.actual_risk_pct}%), weight {plan.weight}"
                if plan.approved
                else f"rejected: {plan.rejection_reason}"
            )
            return f"{item.pattern.value} signal", verdict, self.carry_out(outcome, now)
        outcome = on_price(self.state, item, self.policy, item.as_of, f"bar-{item.as_of:%H}")
        bar = f"bar {item.bar_open}/{item.bar_high}/{item.bar_low}/{item.last}"
        return bar, f"{self.state.status.value}", self.carry_out(outcome, item.as_of)


def _summary_table(walk: Walkthrough) -> Table:
    table = Table(title="Positions")
    for col in ("pattern", "entry", "shares", "exits", "stop", "realized P&L", "R"):
        table.add_column(col, justify="right")
    for p in walk.state.positions:
        exits = ", ".join(f"{e.quantity}@{e.price}" for e in p.exits)
        r = position_r_multiple(p, walk.state.last_price)
        table.add_row(
            p.pattern.value,
            str(p.entry_price),
            str(p.shares),
            exits,
            str(p.stop),
            str(p.realized_pnl),
            str(r),
        )
    return table


def play(
    console: Console | None = None, script: Iterable[EntrySignal | PriceUpdate] = SCRIPT
) -> Walkthrough:
    console = console or Console()
    walk = Walkthrough()
    console.rule(f"[bold]Campaign {AAPL_RANGE.campaign_id}[/]: creek 145, ice 150, jump 156")
    steps = Table(show_lines=False)
    for col in ("time", "input", "decision / status", "orders filled"):
        steps.add_column(col)
    for item in script:
        at = item.generated_at if isinstance(item, EntrySignal) else item.as_of
        what, verdict, orders = walk.step(item)
        steps.add_row(f"{at:%H:%M}", what, verdict, "\n".join(orders) or "-")
    console.print(steps)
    console.print(_summary_table(walk))
    summary = summarize(walk.state.positions, walk.state.last_price, walk.portfolio().equity)
    console.print(
        f"status [bold]{walk.state.status.value}[/], version {walk.state.version}, "
        f"allocated {walk.state.total_allocation}% of {walk.policy.campaign_max_risk_pct}%, "
        f"realized P&L {summary.realized_pnl}, R {summary.r_multiple}, "
        f"{len(walk.events)} events"
    )
    return walk
