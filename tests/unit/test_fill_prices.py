"""Entry fills are booked at the broker's price (issue 22): a position's cost is the
volume-weighted price of its fills, and its P&L, risk, R and breakeven stop follow it."""

from datetime import timedelta
from decimal import Decimal

from campaign_engine.db.repository import STATE
from campaign_engine.domain.campaign import apply_fill
from campaign_engine.domain.events import EntryFilled, PositionOpened
from campaign_engine.domain.ledger import summarize
from campaign_engine.domain.orders import Fill
from campaign_engine.domain.vocabulary import OrderPurpose, Pattern, PositionStatus
from campaign_engine.testing.builders import EQUITY, T0, Book, as_price, bar, signal, tick

D = Decimal


def _entry_filled_in_two_parts() -> Book:
    """The issue's AAPL Spring: 333 shares planned at 148.50 (stop 147.00), filled 133 @ 148.50
    and 200 @ 148.45 by a broker that filled the rest better than the limit."""
    book = Book(fill_orders=False)
    book.submit(signal(Pattern.SPRING))
    (entry,) = book.orders
    assert (entry.limit_price, entry.quantity) == (D("148.50"), D(333))
    for n, (shares, price) in enumerate((("133", "148.50"), ("200", "148.45")), start=1):
        fill = Fill(
            fill_id=f"{entry.client_order_id}:{n}",
            client_order_id=entry.client_order_id,
            quantity=D(shares),
            price=D(price),
            filled_at=T0 + timedelta(seconds=n),
        )
        outcome = apply_fill(book.state, fill, fill.filled_at)
        book.state = outcome.state
        book.events.extend(outcome.events)
    book.fill_orders = True  # the exits fill as the paper broker fills them
    return book


def test_the_position_costs_the_volume_weighted_price_of_its_fills() -> None:
    book = _entry_filled_in_two_parts()
    spring = book.position(Pattern.SPRING)
    assert spring.entry_price == D("148.50")  # the planned price stays what was planned
    assert spring.filled_cost == D("49440.50")  # 133 x 148.50 + 200 x 148.45
    assert spring.average_entry_price == D("148.46996997")  # 49440.50 / 333, to 8 places
    # Risk taken and open risk from the price paid: (148.46996997 - 147.00) x 333.
    assert spring.initial_risk == spring.open_risk == D("489.50000001")
    summary = summarize(book.state.positions, mark=as_price("149.00"), equity=EQUITY)
    assert summary.weighted_avg_entry == D("148.46996997")
    assert summary.unrealized_pnl == D("176.49999999")  # 333 x (149.00 - 148.46996997)


def test_the_audit_trail_keeps_the_planned_and_the_filled_price() -> None:
    book = _entry_filled_in_two_parts()
    fills = [e.data for e in book.events if isinstance(e.data, PositionOpened | EntryFilled)]
    assert [(f.shares, f.price, f.planned_price, f.average_price) for f in fills] == [
        (D(133), D("148.50"), D("148.50"), D("148.50")),
        (D(200), D("148.45"), D("148.50"), D("148.46996997")),
    ]


def test_realized_pnl_is_the_brokers_and_breakeven_is_the_average_fill() -> None:
    """t1 (150.00) gapped to 150.35 sells 166; the stop trails to breakeven, the average fill
    148.46996997 (not the planned 148.50); a tick at 148.04 stops out the other 167. The
    broker's books: 166 x 150.35 + 167 x 148.04 - 49440.50 = 240.28 (at the planned price
    it would read 230.28)."""
    book = _entry_filled_in_two_parts()
    book.price(bar("150.35", "150.50", "150.20", "150.40", 60))
    spring = book.position(Pattern.SPRING)
    assert spring.stop == D("148.46996997")
    assert spring.open_risk == D(0)  # trailed to what the shares cost: nothing at risk
    book.price(tick("148.04", 120))
    spring = book.position(Pattern.SPRING)
    assert spring.status is PositionStatus.CLOSED
    assert [(e.purpose, e.quantity, e.price) for e in spring.exits] == [
        (OrderPurpose.TARGET_1, D(166), D("150.35")),
        (OrderPurpose.STOP, D(167), D("148.04")),
    ]
    assert spring.realized_pnl == D("240.28")
    assert book.state.realized_pnl == D("240.28")
    # R against the risk the filled shares took: 240.28 / 489.50000001.
    summary = summarize(book.state.positions, mark=None, equity=EQUITY)
    assert summary.r_multiple == D("0.4909")


def test_a_state_recorded_before_fill_prices_reads_at_the_planned_price() -> None:
    """A state saved before positions kept their cost (no ``entry_cost`` in its JSON) still
    reads, and its shares cost the planned price."""
    book = _entry_filled_in_two_parts()
    saved = STATE.dump_python(book.state, mode="json")
    for position in saved["positions"]:
        del position["entry_cost"]
    spring = STATE.validate_python(saved).positions[0]
    assert spring.entry_cost is None
    assert spring.average_entry_price == D("148.50")
    assert spring.filled_cost == D("49450.50")
    assert spring.open_risk == D("499.50")  # (148.50 - 147.00) x 333, as it was booked
