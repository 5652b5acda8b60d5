"""The trading state (SPEC section 11): when loss limits halt the portfolio, what a halt
refuses, and that equity at or below zero halts whatever the policy."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from campaign_engine.db.portfolio_snapshot import portfolio_snapshot
from campaign_engine.domain.campaign import decide_entry
from campaign_engine.domain.limits import Exposure, PortfolioView
from campaign_engine.domain.policy import DEFAULT_POLICY, Policy
from campaign_engine.domain.trading_state import (
    TradingRecord,
    assess,
    entry_refusal,
    market_day,
    needs_assessment,
    set_by_operator,
)
from campaign_engine.domain.types import PriceValue
from campaign_engine.domain.vocabulary import HeatAlertLevel, Pattern, RejectionCode, TradingState
from campaign_engine.testing.builders import T0, Book, as_money, signal, tick

D = Decimal
ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
LIMITS = Policy(max_daily_loss_pct=D(3), max_drawdown_pct=D(15))
DAY = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def _opened(equity: str, when: datetime = DAY, policy: Policy = LIMITS) -> TradingRecord:
    """A record whose market day opened at ``equity``."""
    record, change = assess(TradingRecord(), as_money(equity), when, policy)
    assert change is None
    return record


@pytest.mark.parametrize(
    ("equity", "state"),
    [
        ("97000.01", ACTIVE),  # 2.99999999% lost
        ("97000", HALTED),  # exactly 3%: the limit is reached
        ("96000", HALTED),
    ],
)
def test_a_daily_loss_halts_once_it_reaches_the_limit(equity: str, state: TradingState) -> None:
    record, change = assess(_opened("100000"), as_money(equity), DAY, LIMITS)
    assert record.state is state
    if state is HALTED:
        assert change is not None
        assert (change.previous, change.state, change.by) == (ACTIVE, HALTED, "limit")
        assert "daily loss 3" in change.reason or "daily loss 4" in change.reason
        assert change.equity == D(equity)
    else:
        assert change is None


def test_the_day_opens_at_the_equity_last_assessed_and_a_new_day_starts_afresh() -> None:
    policy = Policy(max_daily_loss_pct=D(3))
    record, _ = assess(_opened("100000"), as_money("98000"), DAY, policy)  # -2% on day one
    assert record.state is ACTIVE and record.day_open_equity == D(100000)
    # The next market day opens at 98,000: another 2% is 2.04% of it, under the limit, though
    # 4% below the first day's opening.
    next_day = DAY + timedelta(days=1)
    record, change = assess(record, as_money("96000"), next_day, policy)
    assert change is None and record.state is ACTIVE
    assert (record.market_day, record.day_open_equity) == (date(2026, 12, 8), D(98000))
    # A later change of an earlier market day (campaigns' clocks interleave) counts in the
    # record's day: it does not reopen the previous one.
    record, _ = assess(record, as_money("95500"), DAY, policy)
    assert (record.market_day, record.day_open_equity) == (date(2026, 12, 8), D(98000))


def test_the_market_day_is_the_utc_date_of_the_market_time() -> None:
    late_in_new_york = datetime(2026, 12, 7, 20, 30, tzinfo=ZoneInfo("America/New_York"))
    assert market_day(late_in_new_york) == date(2026, 12, 8)


def test_a_drawdown_from_the_peak_halts() -> None:
    policy = Policy(max_drawdown_pct=D(15))
    record = _opened("100000", policy=policy)
    record, _ = assess(record, as_money("120000"), DAY + timedelta(days=1), policy)
    assert record.equity_peak == D(120000)
    record, change = assess(record, as_money("102000.01"), DAY + timedelta(days=2), policy)
    assert change is None and record.equity_peak == D(120000)
    record, change = assess(record, as_money("102000"), DAY + timedelta(days=3), policy)
    assert record.state is HALTED and change is not None
    assert "drawdown 15" in change.reason and "120000" in change.reason


def test_off_by_default_nothing_halts_but_equity_at_or_below_zero() -> None:
    assert DEFAULT_POLICY.max_daily_loss_pct is None and DEFAULT_POLICY.max_drawdown_pct is None
    assert not needs_assessment(DEFAULT_POLICY, as_money("1"))
    record = _opened("100000", policy=DEFAULT_POLICY)
    record, change = assess(record, as_money("1"), DAY, DEFAULT_POLICY)  # -99.999%
    assert change is None and record.state is ACTIVE


@pytest.mark.parametrize("policy", [DEFAULT_POLICY, LIMITS], ids=["defaults", "limits"])
@pytest.mark.parametrize("equity", ["0", "-1157.50"])
def test_equity_at_or_below_zero_always_halts(policy: Policy, equity: str) -> None:
    assert needs_assessment(policy, as_money(equity))
    record, change = assess(_opened("100000", policy=policy), as_money(equity), DAY, policy)
    assert record.state is HALTED and change is not None
    assert change.reason == f"equity {equity} is at or below zero"


def test_a_halt_holds_until_an_operator_lifts_it_and_active_rebases_the_limits() -> None:
    record, _ = assess(_opened("100000"), as_money("96000"), DAY, LIMITS)
    assert record.state is HALTED
    # Equity recovering does not lift a halt, nor does another assessment announce it again.
    record, change = assess(record, as_money("99000"), DAY, LIMITS)
    assert record.state is HALTED and change is None
    record, change = set_by_operator(record, ACTIVE, "reviewed", as_money("99000"))
    assert change is not None and (change.previous, change.state, change.by) == (
        HALTED,
        ACTIVE,
        "operator",
    )
    assert (record.equity_peak, record.day_open_equity) == (D(99000), D(99000))
    # Losses count from there: 2% more the same day is under the 3% limit.
    record, change = assess(record, as_money("97020"), DAY, LIMITS)
    assert record.state is ACTIVE and change is None
    # Setting the state it is in changes nothing.
    assert set_by_operator(record, ACTIVE, "again", as_money("97020")) == (record, None)


def test_reducing_refuses_entries_only_and_is_never_lifted_by_the_rule() -> None:
    record, change = set_by_operator(
        _opened("100000"), REDUCING, "earnings week", as_money("100000")
    )
    assert change is not None and record.state is REDUCING
    record, change = assess(record, as_money("100500"), DAY, LIMITS)
    assert record.state is REDUCING and change is None
    assert entry_refusal(REDUCING, "earnings week", as_money("100500")) == (
        "trading is REDUCING, new entries are refused: earnings week"
    )
    # Past a limit it halts.
    record, change = assess(record, as_money("96000"), DAY, LIMITS)
    assert record.state is HALTED and change is not None and change.previous is REDUCING
    # Exits are not the rule's business: only entries are refused (see the tests below and
    # the end-to-end test, where a halted campaign's stop still fills).


def test_the_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        Policy(max_daily_loss_pct=D(0))
    with pytest.raises(ValueError, match="less than or equal to 100"):
        Policy(max_drawdown_pct=D(101))


# --- entries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [REDUCING, HALTED])
def test_an_entry_is_refused_trading_halted_unless_active(state: TradingState) -> None:
    view = PortfolioView(equity=as_money("100000"), trading_state=state, trading_reason="why")
    outcome = decide_entry(None, signal(Pattern.SPRING), view, DEFAULT_POLICY, T0)
    plan = outcome.plan
    assert plan is not None and not plan.approved
    assert plan.rejection_code is RejectionCode.TRADING_HALTED
    assert plan.rejection_reason == f"trading is {state.value}, new entries are refused: why"
    assert (plan.shares, plan.risk_amount) == (D(0), D(0))
    assert not outcome.orders and not outcome.state.exists
    # The same entry on an ACTIVE portfolio is approved.
    active = decide_entry(
        None, signal(Pattern.SPRING), PortfolioView(equity=view.equity), DEFAULT_POLICY, T0
    )
    assert active.plan is not None and active.plan.approved


def test_a_halted_book_still_exits() -> None:
    """A campaign keeps trading its exits while new entries are refused."""
    book = Book()
    assert book.submit(signal(Pattern.SPRING)).approved
    halted_view = replace(book.portfolio(), trading_state=HALTED)
    refused = decide_entry(book.state, signal(Pattern.SOS), halted_view, DEFAULT_POLICY, T0)
    assert refused.plan is not None and refused.plan.rejection_code is RejectionCode.TRADING_HALTED
    book.price(tick("146.00", minutes=5))  # under the SPRING's stop 147.00
    assert book.state.positions[0].open_shares == D(0)
    assert book.state.realized_pnl < D(0)


# --- the reproduction: equity below zero ------------------------------------------


def test_equity_below_zero_refuses_entries_trading_halted_and_reports_no_negative_heat() -> None:
    """Issue 21, item 3: a bad tick filled a stop at 0.000000001, equity went to -1,157.50,
    every later signal was refused POSITION_TOO_SMALL and the portfolio reported heat of
    -214%. Entries are refused TRADING_HALTED, and no percentage of a negative equity is
    shown: heat is None (unbounded), the alert EXCEEDED, with an equity alert."""
    equity = as_money("-1157.50")
    open_risk = as_money("2478")
    view = PortfolioView(
        equity=equity, exposures=(Exposure(campaign_id="X", symbol="X", open_risk=open_risk),)
    )
    outcome = decide_entry(None, signal(Pattern.SPRING), view, DEFAULT_POLICY, T0)
    assert outcome.plan is not None
    assert outcome.plan.rejection_code is RejectionCode.TRADING_HALTED
    assert outcome.plan.rejection_reason == "trading halted: equity -1157.50 is at or below zero"
    assert outcome.plan.heat_after_pct is None

    shown = portfolio_snapshot(
        as_money("100000"),
        as_money("-101157.50"),
        view.exposures,
        DEFAULT_POLICY,
    )
    assert shown.equity == equity
    assert shown.heat_pct is None
    assert shown.alert_level is HeatAlertLevel.EXCEEDED
    assert shown.equity_alert is not None and "-1157.50" in shown.equity_alert
    assert all(c.risk_pct is None for c in shown.by_campaign)
    assert all(g.risk_pct is None for g in shown.by_group)
    # Marked equity below zero with realized equity above it: heat is a number, and an alert.
    marked = portfolio_snapshot(
        as_money("100000"),
        as_money("0"),
        view.exposures,
        DEFAULT_POLICY,
        unrealized_pnl=as_money("-100001"),
    )
    assert marked.heat_pct is not None and marked.marked_equity == D(-1)
    assert marked.equity_alert is not None and "marked equity -1" in marked.equity_alert


# --- the backtest halts the same way ----------------------------------------------------------


def test_the_backtest_halts_after_a_loss_past_the_limit_and_refuses_the_next_entry() -> None:
    from campaign_engine.backtest.engine import Backtest
    from campaign_engine.testing.builders import trading_range

    play = Backtest(policy=Policy(max_daily_loss_pct=D(3)))
    (spring,) = play.decide([signal(Pattern.SPRING)], T0)
    assert spring.approved
    play.take_bar(tick("130", minutes=5))  # 333 shares from 148.50: -6,160.50
    assert play.trading.record.state is HALTED
    ((at, change),) = play.trading.changes
    assert at == T0 + timedelta(minutes=5) and change.equity == D("93839.50")
    msft = signal(Pattern.SPRING, rng=trading_range(symbol="MSFT"), at=T0 + timedelta(minutes=6))
    (refused,) = play.decide([msft], T0 + timedelta(minutes=6))
    assert refused.rejection_code is RejectionCode.TRADING_HALTED
    # With no limit set the same play goes on trading.
    free = Backtest()
    free.decide([signal(Pattern.SPRING)], T0)
    free.take_bar(tick("130", minutes=5))
    (approved,) = free.decide([msft], T0 + timedelta(minutes=6))
    assert approved.approved and free.trading.changes == []


# --- fills outside their bar ------------------------------------------------------------------


def test_an_exit_carries_its_bar_and_its_replacement_keeps_it() -> None:
    """A bar-triggered exit holds the range of its bar; refused by the broker, the exit placed
    again for it is held to the same range (else a refused bad fill would go through on the
    second attempt)."""
    from campaign_engine.domain.campaign.broker_reports import book_report
    from campaign_engine.domain.orders import BrokerOrder, outside_its_bar
    from campaign_engine.domain.vocabulary import OrderStatus
    from campaign_engine.testing.builders import bar

    book = Book()
    assert book.submit(signal(Pattern.SPRING)).approved
    book.fill_orders = False
    (exit_,) = book.price(bar("146.90", "147.20", "146.80", "146.90", 5)).orders
    assert (exit_.bar_low, exit_.bar_high) == (D("146.80"), D("147.20"))
    assert outside_its_bar(exit_, exit_.expected_price) is None
    assert outside_its_bar(exit_, PriceValue(D("146.79"))) is not None
    refused = BrokerOrder(
        client_order_id=exit_.client_order_id,
        status=OrderStatus.REJECTED,
        filled_quantity=D(0),
        reason="fill price outside the bar",
    )
    (outcome,) = book_report(book.state, refused)
    (again,) = outcome.orders
    assert again.client_order_id != exit_.client_order_id
    assert (again.bar_low, again.bar_high) == (exit_.bar_low, exit_.bar_high)


def test_a_change_is_an_alert_line() -> None:
    from structlog.testing import capture_logs

    from campaign_engine.runtime.observability import report_trading_state

    _, change = assess(_opened("100000"), as_money("-5"), DAY, LIMITS)
    assert change is not None
    with capture_logs() as logs:
        report_trading_state(HALTED, change, campaign_id="MSFT-2024-10-15")
        report_trading_state(HALTED, None)  # an assessment that changed nothing: no line
    assert logs == [
        {
            "event": "trading_state_changed",
            "log_level": "warning",
            "previous": "ACTIVE",
            "state": "HALTED",
            "reason": "equity -5 is at or below zero",
            "equity": "-5",
            "by": "limit",
            "campaign_id": "MSFT-2024-10-15",
        }
    ]
