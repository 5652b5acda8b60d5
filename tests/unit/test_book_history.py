"""The book over time, folded from what each moment's saves moved (domain.book_history), with
the SPEC's worked Spring: 333 shares at 148.50, stop 147.00, on 100,000."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from campaign_engine.domain.book_history import BookChange, book_points, realized_by_day
from campaign_engine.domain.types import MoneyValue

D = Decimal
T0 = datetime(2024, 10, 15, 14, 30, tzinfo=UTC)
EQUITY = MoneyValue(D("100000"))


def change(
    hours: float,
    realized: str = "0",
    unrealized: str = "0",
    open_risk: str = "0",
    reserved: str = "0",
) -> BookChange:
    return BookChange(
        at=T0 + timedelta(hours=hours),
        realized_pnl=MoneyValue(D(realized)),
        unrealized_pnl=MoneyValue(D(unrealized)),
        open_risk=MoneyValue(D(open_risk)),
        reserved_risk=MoneyValue(D(reserved)),
    )


# (what the moment moved) -> (equity, marked equity, open risk, committed risk, heat %)
WORKED = [
    # Approved: 499.50 reserved for the entry, nothing open yet.
    (change(0, reserved="499.50"), ("100000", "100000", "0", "499.50", "0.4995")),
    # Filled: the reservation becomes open risk.
    (
        change(1, open_risk="499.50", reserved="-499.50"),
        ("100000", "100000", "499.50", "499.50", "0.4995"),
    ),
    # 150.00: half (166 shares) sold at the first target, +249.00; the stop to breakeven.
    (
        change(2, realized="249.00", unrealized="250.50", open_risk="-499.50"),
        ("100249.00", "100499.50", "0", "0", "0"),
    ),
    # 147.00 through breakeven: the rest (167) sold at 148.50, nothing more made.
    (change(26, unrealized="-250.50"), ("100249.00", "100249.00", "0", "0", "0")),
]


def test_the_worked_spring_over_time() -> None:
    points = book_points(EQUITY, [c for c, _ in WORKED])
    for point, (_, (equity, marked, open_risk, committed, heat)) in zip(
        points, WORKED, strict=True
    ):
        assert (point.equity, point.marked_equity, point.open_risk, point.committed_risk) == (
            D(equity),
            D(marked),
            D(open_risk),
            D(committed),
        )
        assert point.heat_pct == D(heat)
    assert realized_by_day([c for c, _ in WORKED]) == [(date(2024, 10, 15), D("249.00"))]


def test_heat_is_unbounded_at_or_below_zero_equity() -> None:
    [point] = book_points(EQUITY, [change(0, realized="-100000", open_risk="10")])
    assert point.equity == 0 and point.heat_pct is None


def test_realized_pnl_is_counted_on_its_market_day() -> None:
    changes = [
        change(0, realized="10"),
        change(9, realized="-4"),
        change(10, realized="7"),
        change(11, unrealized="5"),
    ]
    assert realized_by_day(changes) == [(date(2024, 10, 15), D(6)), (date(2024, 10, 16), D(7))]


amounts = st.decimals(min_value=-10_000, max_value=10_000, places=2)


@given(st.lists(st.tuples(amounts, amounts, amounts), max_size=30))
def test_the_last_point_is_the_sum_of_every_change(
    moves: list[tuple[Decimal, Decimal, Decimal]],
) -> None:
    changes = [
        change(k, realized=str(r), open_risk=str(o), reserved=str(v))
        for k, (r, o, v) in enumerate(moves)
    ]
    points = book_points(EQUITY, changes)
    assert len(points) == len(changes)
    if points:
        assert points[-1].equity == EQUITY + sum((r for r, _, _ in moves), D(0))
        assert points[-1].committed_risk == sum((o + v for _, o, v in moves), D(0))
    assert sum((pnl for _, pnl in realized_by_day(changes)), D(0)) == sum(
        (r for r, _, _ in moves), D(0)
    )
