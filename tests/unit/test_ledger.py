"""The position ledger's aggregates (SPEC section 6)."""

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from campaign_engine.domain.ledger import position_r_multiple, summarize, weighted_avg_entry
from campaign_engine.domain.positions import Position
from campaign_engine.domain.vocabulary import Pattern, PositionStatus
from campaign_engine.testing.builders import EQUITY, T0, as_money, as_percent, as_price, as_shares

D = Decimal


def _position(
    entry: str,
    shares: str,
    *,
    stop: str | None = None,
    open_shares: str | None = None,
    realized: str = "0",
    status: PositionStatus = PositionStatus.OPEN,
) -> Position:
    entry_d = as_price(entry)
    stop_d = as_price(stop) if stop else as_price(entry_d - 2)
    return Position(
        id=uuid4(),
        campaign_id="AAPL-2024-10-15",
        signal_id=UUID(int=1),
        pattern=Pattern.SOS,
        symbol="AAPL",
        entry_price=entry_d,
        initial_stop=as_price(entry_d - 2),
        stop=stop_d,
        targets=(as_price(entry_d + 5),),
        weight=D("0.3"),
        risk_pct=as_percent("1"),
        planned_shares=as_shares(shares),
        shares=as_shares(shares),
        open_shares=as_shares(open_shares if open_shares is not None else shares),
        status=status,
        approved_at=T0,
        realized_pnl=as_money(realized),
    )


@pytest.mark.parametrize(
    ("holdings", "average"),
    [
        ([("100", "100"), ("102", "80"), ("103", "60")], "101.41666667"),  # not 101.45
        ([("150", "100"), ("153", "50")], "151.00"),  # not 151.50
        ([("150.25", "666")], "150.25"),
    ],
)
def test_weighted_average_entry(holdings: list[tuple[str, str]], average: str) -> None:
    positions = [_position(e, s) for e, s in holdings]
    assert weighted_avg_entry(positions) == D(average)
    assert summarize(positions, mark=None, equity=EQUITY).weighted_avg_entry == D(average)


def test_flat_ledger_has_no_average_and_zero_totals() -> None:
    closed = _position("100", "10", open_shares="0", realized="50", status=PositionStatus.CLOSED)
    summary = summarize([closed], mark=as_price("120"), equity=EQUITY)
    assert summary.weighted_avg_entry is None
    assert (summary.total_shares, summary.total_risk, summary.unrealized_pnl) == (D(0), D(0), D(0))
    assert summary.total_pnl == D(50)
    assert (summary.open_positions_count, summary.closed_positions_count) == (0, 1)


def test_totals_risk_and_pnl_over_open_and_closed() -> None:
    positions = [
        _position("100", "100", stop="98"),  # risk 200
        _position("102", "80", stop="102"),  # trailed to breakeven: risk 0
        _position("103", "60", stop="104"),  # stop above entry: risk 0, never negative
        _position("90", "50", open_shares="0", realized="-100", status=PositionStatus.CLOSED),
    ]
    summary = summarize(positions, mark=as_price("105"), equity=EQUITY)
    assert summary.total_shares == D(240)
    assert summary.total_risk == D(200)
    assert summary.current_risk_pct == D("0.2")
    assert summary.unrealized_pnl == D(5 * 100 + 3 * 80 + 2 * 60)
    assert summary.realized_pnl == D(-100)
    assert summary.total_pnl == D(760)
    # R over all filled positions: 760 / (2*100 + 2*80 + 2*60 + 2*50)
    assert summary.r_multiple == D("1.3103")


def test_position_r_multiple() -> None:
    half_out = _position("100", "100", open_shares="50", realized="250")  # 1R = 200
    assert position_r_multiple(half_out, as_price("104")) == D("2.25")  # (250 + 200) / 200
