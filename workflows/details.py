"""What an operator sees of a campaign in the Temporal UI: search attributes to filter by, and
a short markdown summary as the workflow's current details. Deterministic, no I/O."""

from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)

from campaign_engine.domain.campaign.flat import awaiting_flat
from campaign_engine.domain.ledger import summarize
from campaign_engine.domain.risk import RiskFigures
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import MoneyValue
from campaign_engine.domain.vocabulary import PositionStatus

CAMPAIGN_SYMBOL = SearchAttributeKey.for_keyword("CampaignSymbol")
CAMPAIGN_STATUS = SearchAttributeKey.for_keyword("CampaignStatus")
CAMPAIGN_PHASE = SearchAttributeKey.for_keyword("CampaignPhase")
CAMPAIGN_OPEN_RISK_PCT = SearchAttributeKey.for_float("CampaignOpenRiskPct")

SEARCH_ATTRIBUTES = (CAMPAIGN_SYMBOL, CAMPAIGN_STATUS, CAMPAIGN_PHASE, CAMPAIGN_OPEN_RISK_PCT)
"""Registered by the dev stack and the tests; production registers them once (docs/operating.md)."""


def search_attributes(state: CampaignState, equity: MoneyValue) -> list[SearchAttributeUpdate[Any]]:
    """The attributes a campaign is found by. A campaign id whose signals were all refused has
    no status: it is not a campaign."""
    updates: list[SearchAttributeUpdate[Any]] = [CAMPAIGN_SYMBOL.value_set(state.symbol)]
    if state.exists:
        # A search attribute is a value to filter and display by, never used for arithmetic.
        # It holds what its name says, open risk (SPEC section 6's current_risk): the same
        # figure as the API's current_risk, not the committed risk that counts reservations.
        figures = RiskFigures.of(state.positions, equity)
        risk = float(round(figures.open_risk_pct, 4))
        updates += [
            CAMPAIGN_STATUS.value_set(state.status.value),
            CAMPAIGN_PHASE.value_set(state.phase.value),
            CAMPAIGN_OPEN_RISK_PCT.value_set(risk),
        ]
    return updates


def initial_search_attributes(symbol: str) -> TypedSearchAttributes:
    return TypedSearchAttributes([SearchAttributePair(CAMPAIGN_SYMBOL, symbol)])


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _signed(value: Decimal) -> str:
    return f"{value:+,.2f}"


def render_details(state: CampaignState, equity: MoneyValue) -> str:
    """A short markdown summary for the Temporal UI: status, positions, risk and P&L. Lists,
    not tables: the UI draws markdown tables without cell padding."""
    if not state.exists:
        refused = len(state.plans)
        return f"**{state.campaign_id}**: no campaign ({refused} signal(s) refused)"
    summary = summarize(state.positions, mark=state.last_price, equity=equity)
    r = "-" if summary.r_multiple is None else f"{summary.r_multiple:.2f}"
    rng = state.trading_range
    lines = [
        f"**{state.campaign_id}** · **{state.status.value}** · phase {state.phase.value} · "
        f"version {state.version}",
        "",
        f"Range creek {rng.creek} · ice {rng.ice} · jump {rng.jump}"
        + (f" · last price {state.last_price}" if state.last_price is not None else ""),
        "",
    ]
    if state.quarantine_reason:
        lines += [f"**Quarantined**: {state.quarantine_reason}", ""]
    for p in state.positions:
        lines.append(
            f"- **{p.pattern.value}** {p.status.value}: {p.shares.normalize():f} shares @ "
            f"{p.average_entry_price}, {p.open_shares.normalize():f} open, stop {p.stop}, "
            f"targets hit {p.targets_hit} of {len(p.targets)}, "
            f"realized {_signed(p.realized_pnl)}"
        )
    opened = sum(1 for p in state.positions if p.status is PositionStatus.OPEN)
    risk = RiskFigures.of(state.positions, equity)
    lines += [
        "",
        f"Open risk {_money(risk.open_risk)} ({risk.open_risk_pct:.2f}%) · "
        f"committed risk {_money(risk.committed_risk)} ({risk.committed_risk_pct:.2f}%, "
        f"open plus reserved for unfilled entries) of equity {_money(equity)} · "
        f"allocated {state.total_allocation:.2f}% of equity · "
        f"{opened} open position(s)",
        "",
        f"P&L: realized {_signed(summary.realized_pnl)} · "
        f"unrealized {_signed(summary.unrealized_pnl)} · R {r}",
    ]
    if state.invalidation_reason:
        lines += ["", f"Invalidated: {state.invalidation_reason}"]
    if awaiting_flat(state):
        held = state.held_shares
        lines += ["", f"**Waiting to be flat**: {held.normalize():f} shares still held, retried"]
    return "\n".join(lines)


class UiView:
    """Keeps a run's view in the Temporal UI current (its details and search attributes).
    Each upsert is a command and an event in history: only a change is sent."""

    def __init__(self) -> None:
        self._published: tuple[object, ...] | None = None

    def show(self, state: CampaignState | None, equity: MoneyValue) -> None:
        if state is None:
            return
        workflow.set_current_details(render_details(state, equity))
        attributes = search_attributes(state, equity)
        seen = tuple((a.key.name, a.value) for a in attributes)
        if seen != self._published:
            self._published = seen
            workflow.upsert_search_attributes(attributes)
