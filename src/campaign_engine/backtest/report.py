"""What a backtest report holds, built from a run: each campaign (status, entries, exits, P&L,
R), the portfolio (equity curve, heat over time, trade statistics, max drawdown and its
duration), statistics per pattern and per exit reason, and the signals refused by code.
``report_json`` writes it as JSON, ``report_html`` as a page with charts."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from campaign_engine.backtest.campaigns import (
    CampaignRow,
    ExitRow,
    campaign_row,
    ending_equity,
    filled,
    position_r,
)
from campaign_engine.backtest.engine import BacktestRun
from campaign_engine.backtest.metrics import Drawdown, ExitReason, TradeStats, drawdown, trade_stats
from campaign_engine.backtest.timeline import Timeline
from campaign_engine.domain.money import HUNDRED, ZERO
from campaign_engine.domain.vocabulary import LONG_SEQUENCE, PositionStatus

_RATIO = Decimal("0.0001")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitReasonStats:
    exits: int
    shares: Decimal
    realized_pnl: Decimal
    average_r: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    signal: str
    campaign_id: str
    symbol: str
    pattern: str
    decided_at: datetime
    code: str | None
    reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Signals:
    decided: int
    approved: int
    refused: int
    refused_by_code: dict[str, int]
    refusals: tuple[Refusal, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class EquityPoint:
    at: datetime
    equity: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class HeatPoint:
    at: datetime
    heat_pct: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Portfolio:
    starting_equity: Decimal
    final_equity: Decimal  # marked to market at the last closes
    net_pnl: Decimal
    return_pct: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    campaigns: int
    campaigns_by_status: dict[str, int]
    trades: TradeStats  # closed entries
    open_trades: int
    drawdown: Drawdown
    max_heat_pct: Decimal
    max_heat_at: datetime | None
    portfolio_max_heat_pct: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    source: str
    start: datetime | None
    end: datetime | None
    bars: int
    portfolio: Portfolio
    campaigns: tuple[CampaignRow, ...]
    by_pattern: dict[str, TradeStats]
    by_exit_reason: dict[str, ExitReasonStats]
    signals: Signals
    equity_curve: tuple[EquityPoint, ...]
    heat: tuple[HeatPoint, ...]


def _by_exit_reason(rows: list[ExitRow]) -> dict[str, ExitReasonStats]:
    found: dict[str, ExitReasonStats] = {}
    for reason in ExitReason:
        of_reason = [x for x in rows if x.reason is reason]
        if of_reason:
            rs = [x.r_multiple for x in of_reason if x.r_multiple is not None]
            average = sum(rs, ZERO) / len(rs) if rs else None
            found[reason.value] = ExitReasonStats(
                exits=len(of_reason),
                shares=sum((x.shares for x in of_reason), ZERO),
                realized_pnl=sum((x.realized_pnl for x in of_reason), ZERO),
                average_r=average.quantize(_RATIO, ROUND_HALF_EVEN) if average else average,
            )
    return found


def _signals(run: BacktestRun, timeline: Timeline) -> Signals:
    refused = [p for p in run.plans if not p.approved]
    codes = Counter(p.rejection_code.value if p.rejection_code else "UNKNOWN" for p in refused)
    return Signals(
        decided=len(run.plans),
        approved=len(run.plans) - len(refused),
        refused=len(refused),
        refused_by_code=dict(codes.most_common()),
        refusals=tuple(
            Refusal(
                signal=timeline.label(p.signal_id),
                campaign_id=p.campaign_id,
                symbol=p.symbol,
                pattern=p.pattern.value,
                decided_at=p.decided_at,
                code=p.rejection_code.value if p.rejection_code else None,
                reason=p.rejection_reason,
            )
            for p in refused
        ),
    )


def build_report(run: BacktestRun, timeline: Timeline) -> Report:
    """The report of ``run``, a play of ``timeline``."""
    states = run.campaigns
    equity = ending_equity(run)
    rows = tuple(campaign_row(s, run, timeline, equity=equity) for s in states)
    positions = [p for s in states for p in filled(s)]
    closed = [p for p in positions if p.status is PositionStatus.CLOSED]
    curve = tuple(
        EquityPoint(
            at=s.at, equity=s.equity, realized_pnl=s.realized_pnl, unrealized_pnl=s.unrealized_pnl
        )
        for s in run.snapshots
        if s.after != "signals"
    )
    heat = tuple(HeatPoint(at=s.at, heat_pct=s.heat_pct) for s in run.snapshots)
    hottest = max(heat, key=lambda h: h.heat_pct, default=None)
    start = run.policy.starting_equity
    final = curve[-1].equity if curve else start
    by_pattern = {
        pattern.value: trade_stats((p.realized_pnl, position_r(p)) for p in of_pattern)
        for pattern in LONG_SEQUENCE
        if (of_pattern := [p for p in closed if p.pattern is pattern])
    }
    portfolio = Portfolio(
        starting_equity=start,
        final_equity=final,
        net_pnl=final - start,
        return_pct=(HUNDRED * (final - start) / start).quantize(_RATIO, ROUND_HALF_EVEN),
        realized_pnl=curve[-1].realized_pnl if curve else ZERO,
        unrealized_pnl=curve[-1].unrealized_pnl if curve else ZERO,
        campaigns=len(states),
        campaigns_by_status=dict(Counter(s.status.value for s in states)),
        trades=trade_stats((p.realized_pnl, position_r(p)) for p in closed),
        open_trades=len(positions) - len(closed),
        drawdown=drawdown([(p.at, p.equity) for p in curve]),
        max_heat_pct=hottest.heat_pct if hottest else ZERO,
        max_heat_at=hottest.at if hottest else None,
        portfolio_max_heat_pct=run.policy.portfolio_max_heat_pct,
    )
    return Report(
        source=timeline.source,
        start=timeline.steps[0].at if timeline.steps else None,
        end=timeline.steps[-1].at if timeline.steps else None,
        bars=timeline.bar_count,
        portfolio=portfolio,
        campaigns=rows,
        by_pattern=by_pattern,
        by_exit_reason=_by_exit_reason([x for row in rows for x in row.exits]),
        signals=_signals(run, timeline),
        equity_curve=curve,
        heat=heat,
    )
