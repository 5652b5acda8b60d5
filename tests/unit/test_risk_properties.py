"""Invariants of the two risk figures (domain/risk.py) over any positions a campaign may hold:
filled or not, in part, sold in part, stops trailed above the entry."""

from decimal import Decimal
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from campaign_engine.domain.positions import Position
from campaign_engine.domain.risk import RiskFigures
from campaign_engine.domain.vocabulary import Pattern, PositionStatus
from campaign_engine.testing.builders import T0, as_money, as_percent, as_price, as_shares

_PRICES = st.decimals(min_value="0.02", max_value="1000", places=2)
_SHARES = st.integers(min_value=0, max_value=10_000)


@st.composite
def positions(draw: st.DrawFn, *, holding: bool = True) -> Position:
    """A position: ``planned`` shares approved, ``filled`` of them bought, ``held`` of those
    still open; its stop anywhere (trailed up past the entry once targets are hit). With
    ``holding=False`` it holds nothing and reserves nothing: fully filled and sold, or
    released before a share filled."""
    entry = draw(_PRICES)
    initial_stop = draw(st.decimals(min_value="0.01", max_value=entry - Decimal("0.01"), places=2))
    stop = draw(_PRICES)
    planned = draw(st.integers(min_value=1, max_value=10_000))
    if holding:
        filled = draw(st.integers(min_value=0, max_value=planned))
        held = draw(st.integers(min_value=0, max_value=filled))
    else:
        filled = draw(st.sampled_from([0, planned]))
        planned, held = filled, 0
    return Position(
        id=UUID(int=draw(st.integers(min_value=1, max_value=2**64))),
        campaign_id="AAPL-2024-10-15",
        signal_id=UUID(int=1),
        pattern=draw(st.sampled_from([Pattern.SPRING, Pattern.SOS, Pattern.LPS])),
        symbol="AAPL",
        entry_price=as_price(entry),
        initial_stop=as_price(initial_stop),
        stop=as_price(stop),
        targets=(as_price(entry + 10),),
        weight=Decimal("0.3"),
        risk_pct=as_percent("1"),
        planned_shares=as_shares(planned),
        shares=as_shares(filled),
        open_shares=as_shares(held),
        status=PositionStatus.OPEN if held else PositionStatus.CLOSED,
        approved_at=T0,
        opened_at=T0 if filled else None,
        closed_at=None if held else T0,
    )


_EQUITY = st.decimals(min_value="1000", max_value="10000000", places=2).map(as_money)


@given(st.lists(positions(), max_size=3), _EQUITY)
def test_committed_risk_is_never_below_open_risk(held: list[Position], equity: Decimal) -> None:
    risk = RiskFigures.of(held, as_money(equity))
    assert risk.committed_risk >= risk.open_risk >= 0
    assert risk.committed_risk_pct >= risk.open_risk_pct >= 0


@given(st.lists(positions(holding=False), max_size=3), _EQUITY)
def test_a_campaign_holding_and_reserving_nothing_risks_nothing(
    flat: list[Position], equity: Decimal
) -> None:
    risk = RiskFigures.of(flat, as_money(equity))
    assert risk.open_risk == risk.committed_risk == 0
    assert risk.open_risk_pct == risk.committed_risk_pct == 0
