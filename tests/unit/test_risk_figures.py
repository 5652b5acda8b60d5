"""A campaign's two risk figures, open and committed (domain/risk.py), read the same on every
screen: the domain, the API's record and JSON, the Temporal UI (search attribute and summary)
and the backtest report. SPEC's worked numbers on equity 100,000: Spring 148.50 stop 147.00
-> 333 shares risking 499.50, SOS 150.25 stop 148.75 -> 666 shares (999.00), LPS 151.00 stop
149.50 -> 400 shares (600.00)."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy.engine import Row

from campaign_engine.api.schemas import CampaignOut
from campaign_engine.backtest.campaigns import campaign_row
from campaign_engine.backtest.engine import BacktestRun
from campaign_engine.backtest.timeline import Timeline
from campaign_engine.db.records import CampaignRecord
from campaign_engine.db.repository import _campaign_row
from campaign_engine.domain.policy import DEFAULT_POLICY
from campaign_engine.domain.risk import RiskFigures
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import EQUITY, T0, Book, as_money, as_shares, signal
from campaign_engine.workflows.details import (
    CAMPAIGN_OPEN_RISK_PCT,
    render_details,
    search_attributes,
)

D = Decimal
SPRING, SOS, LPS = Pattern.SPRING, Pattern.SOS, Pattern.LPS


def _spring_approved() -> CampaignState:
    book = Book(fill_orders=False)
    book.submit(signal(SPRING))
    return book.state


def _spring_part_filled() -> CampaignState:
    """133 of the Spring's 333 shares filled: 133 x 1.50 open, 200 x 1.50 still reserved."""
    book = Book(fill_orders=False)
    book.submit(signal(SPRING))
    (order,) = book.orders
    book.fill(order, shares=as_shares(133))
    return book.state


def _spring_filled_sos_approved() -> CampaignState:
    book = Book(fill_orders=False)
    book.submit(signal(SPRING))
    (order,) = book.orders
    book.fill(order)
    book.submit(signal(SOS))
    return book.state


def _filled(*patterns: Pattern) -> CampaignState:
    book = Book()
    for pattern in patterns:
        book.submit(signal(pattern))
    return book.state


@dataclass(frozen=True)
class Case:
    state: Callable[[], CampaignState]
    open_risk: str
    committed_risk: str
    open_pct: str
    committed_pct: str

    @property
    def figures(self) -> tuple[Decimal, ...]:
        """Open and committed risk in money, then as a percentage of equity."""
        texts = (self.open_risk, self.committed_risk, self.open_pct, self.committed_pct)
        return tuple(D(t) for t in texts)


CASES = {
    "spring approved, nothing filled": Case(_spring_approved, "0", "499.50", "0", "0.4995"),
    "spring 133 of 333 filled": Case(_spring_part_filled, "199.50", "499.50", "0.1995", "0.4995"),
    "spring filled": Case(lambda: _filled(SPRING), "499.50", "499.50", "0.4995", "0.4995"),
    "spring filled, sos approved": Case(
        _spring_filled_sos_approved, "499.50", "1498.50", "0.4995", "1.4985"
    ),
    "spring, sos and lps filled": Case(
        lambda: _filled(SPRING, SOS, LPS), "2098.50", "2098.50", "2.0985", "2.0985"
    ),
}


@pytest.fixture(params=list(CASES.values()), ids=list(CASES))
def case(request: pytest.FixtureRequest) -> tuple[Case, CampaignState]:
    chosen = cast(Case, request.param)
    return chosen, chosen.state()


def test_the_domain_gives_the_worked_figures(case: tuple[Case, CampaignState]) -> None:
    expected, state = case
    risk = RiskFigures.of(state.positions, EQUITY)
    shown = (risk.open_risk, risk.committed_risk, risk.open_risk_pct, risk.committed_risk_pct)
    assert shown == expected.figures


def _row(state: CampaignState) -> Row[Any]:
    """The campaign's row as the repository writes it, read back as the read model reads it."""
    return cast(Row[Any], SimpleNamespace(**_campaign_row(state, T0)))


def test_the_api_gives_the_same_figures(case: tuple[Case, CampaignState]) -> None:
    """current_risk is the open risk %; committed_risk_pct counts the reservations too; the
    same from the read model's row as from the live workflow's state."""
    expected, state = case
    for record in (
        CampaignRecord.from_state(state, EQUITY),
        CampaignRecord.from_row(_row(state), EQUITY),
    ):
        data = CampaignOut.model_validate(record).model_dump(mode="json")
        figures = [data[k] for k in ("current_risk", "committed_risk_pct")]
        assert [D(f) for f in figures] == [D(expected.open_pct), D(expected.committed_pct)]
        assert D(data["committed_risk"]) == D(expected.committed_risk)
        assert D(data["open_risk"]) == D(expected.open_risk)


def test_the_temporal_ui_gives_the_same_figures(case: tuple[Case, CampaignState]) -> None:
    expected, state = case
    attributes = {u.key.name: u.value for u in search_attributes(state, EQUITY)}
    assert attributes[CAMPAIGN_OPEN_RISK_PCT.name] == float(D(expected.open_pct))
    summary = render_details(state, EQUITY)
    open_, committed = D(expected.open_risk), D(expected.committed_risk)
    assert f"Open risk {open_:,.2f} ({D(expected.open_pct):.2f}%)" in summary
    assert f"committed risk {committed:,.2f} ({D(expected.committed_pct):.2f}%" in summary


def test_the_backtest_report_gives_the_same_figures(case: tuple[Case, CampaignState]) -> None:
    expected, state = case
    run = BacktestRun(
        policy=DEFAULT_POLICY,
        states={state.campaign_id: state},
        plans=state.plans,
        events=(),
        snapshots=(),
        marks={},
    )
    row = campaign_row(state, run, Timeline((), "worked numbers"), equity=EQUITY)
    shown = (row.open_risk, row.committed_risk, row.open_risk_pct, row.committed_risk_pct)
    assert shown == expected.figures


def test_percentages_are_rounded_up_to_eight_places() -> None:
    """Risk held against a limit is never understated: 1 of 300 is 0.33333334%."""
    risk = RiskFigures(open_risk=as_money(1), reserved_risk=as_money(0), equity=as_money(300))
    assert (risk.open_risk_pct, risk.committed_risk_pct) == (D("0.33333334"), D("0.33333334"))
