"""Each campaign of a backtest as the report shows it: its entries (the positions that
filled), its exits with their reasons, its P&L and R."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from campaign_engine.backtest.engine import BacktestRun
from campaign_engine.backtest.metrics import ExitReason, exit_reason
from campaign_engine.backtest.timeline import Timeline
from campaign_engine.domain.ledger import r_multiple, summarize
from campaign_engine.domain.money import ZERO, difference, plus, total, value_of
from campaign_engine.domain.positions import Position
from campaign_engine.domain.risk import RiskFigures
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import MoneyValue
from campaign_engine.domain.vocabulary import LONG_SEQUENCE


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryRow:
    pattern: str
    signal: str
    shares: Decimal
    price: Decimal
    initial_stop: Decimal
    stop: Decimal  # where the stop ended (trailed to breakeven or t1 by targets)
    targets: tuple[Decimal, ...]
    risk_pct: Decimal
    opened_at: datetime | None
    closed_at: datetime | None
    status: str
    realized_pnl: Decimal
    r_multiple: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitRow:
    pattern: str
    reason: ExitReason
    shares: Decimal
    price: Decimal
    at: datetime
    realized_pnl: Decimal
    r_multiple: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignRow:
    campaign_id: str
    symbol: str
    timeframe: str
    status: str
    phase: str
    created_at: datetime | None
    closed_at: datetime | None
    invalidation_reason: str | None
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    total_pnl: Decimal
    initial_risk: Decimal
    r_multiple: Decimal | None
    # Risk left at the end of the play (domain.risk), % of the equity the play ended with
    # (starting + realized): the figures the API gives as current_risk and committed_risk_pct.
    open_risk: Decimal
    committed_risk: Decimal
    open_risk_pct: Decimal
    committed_risk_pct: Decimal
    last_price: Decimal | None
    levels: dict[str, Decimal | None]
    entries: tuple[EntryRow, ...]
    exits: tuple[ExitRow, ...]


def position_r(position: Position) -> Decimal | None:
    return r_multiple(pnl=position.realized_pnl, initial_risk=position.initial_risk)


def _entry(position: Position, timeline: Timeline) -> EntryRow:
    return EntryRow(
        pattern=position.pattern.value,
        signal=timeline.label(position.signal_id),
        shares=position.shares,
        price=position.average_entry_price,
        initial_stop=position.initial_stop,
        stop=position.stop,
        targets=position.targets,
        risk_pct=position.risk_pct,
        opened_at=position.opened_at,
        closed_at=position.closed_at,
        status=position.status.value,
        realized_pnl=position.realized_pnl,
        r_multiple=position_r(position),
    )


def _exits(position: Position) -> list[ExitRow]:
    per_share = difference(high=position.average_entry_price, low=position.initial_stop)
    return [
        ExitRow(
            pattern=position.pattern.value,
            reason=exit_reason(e.purpose, position),
            shares=e.quantity,
            price=e.price,
            at=e.at,
            realized_pnl=e.realized_pnl,
            r_multiple=r_multiple(
                pnl=e.realized_pnl, initial_risk=value_of(shares=e.quantity, price=per_share)
            ),
        )
        for e in position.exits
    ]


def filled(state: CampaignState) -> list[Position]:
    """The campaign's positions whose entries filled, in SPRING, SOS, LPS order."""
    held = [p for p in state.positions if p.shares > ZERO]  # filled, held or not
    return sorted(held, key=lambda p: LONG_SEQUENCE.index(p.pattern))


def ending_equity(run: BacktestRun) -> MoneyValue:
    """Equity as the play left it (SPEC: starting equity plus realized P&L)."""
    return plus(run.policy.starting_equity, *(s.realized_pnl for s in run.campaigns))


def campaign_row(
    state: CampaignState, run: BacktestRun, timeline: Timeline, *, equity: MoneyValue
) -> CampaignRow:
    """``state`` as the report shows it, its risk measured on ``equity``."""
    positions = filled(state)
    risk = RiskFigures.of(state.positions, equity)  # reserved risk sits on unfilled ones too
    mark = run.marks.get(state.symbol)
    summary = summarize(positions, mark=mark, equity=run.policy.starting_equity)
    exits = sorted((x for p in positions for x in _exits(p)), key=lambda x: x.at)
    r = state.trading_range
    return CampaignRow(
        campaign_id=state.campaign_id,
        symbol=state.symbol,
        timeframe=state.timeframe,
        status=state.status.value,
        phase=state.phase.value,
        created_at=state.created_at,
        closed_at=state.closed_at,
        invalidation_reason=state.invalidation_reason,
        realized_pnl=summary.realized_pnl,
        unrealized_pnl=summary.unrealized_pnl,
        total_pnl=summary.total_pnl,
        initial_risk=total(p.initial_risk for p in positions),
        r_multiple=summary.r_multiple,
        open_risk=risk.open_risk,
        committed_risk=risk.committed_risk,
        open_risk_pct=risk.open_risk_pct,
        committed_risk_pct=risk.committed_risk_pct,
        last_price=mark,
        levels={"creek": r.creek, "ice": r.ice, "jump": r.jump, "spring_low": r.spring_low},
        entries=tuple(_entry(p, timeline) for p in positions),
        exits=tuple(exits),
    )
