"""Entries (SPEC sections 3-4) in one pipeline, the same in production and in tests:

1. ``prepare_entry`` (pure): rules 1-8 on the campaign alone. Either the final answer (the
   earlier plan of a known signal id, or a rejection) or the ``AdmissionRequest`` to put to the
   portfolio.
2. ``admit_entry`` (the one reservation, rules 9-10): in production the database does it
   under a lock on the portfolio row; ``decide_entry`` does it on an in-memory PortfolioView.
3. ``conclude_entry`` (pure): the AllocationPlan and the outcome of applying it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from campaign_engine.domain.allocation import Allocation
from campaign_engine.domain.campaign.outcome import Outcome, announce, exposure_of
from campaign_engine.domain.entry import (
    Admission,
    AdmissionRequest,
    Rejection,
    admit_entry,
    plan_entry,
    precheck_entry,
)
from campaign_engine.domain.events import (
    AllocationRejected,
    CampaignCreated,
    EntryApproved,
    EventData,
    PortfolioHeatAlert,
)
from campaign_engine.domain.exits import default_targets
from campaign_engine.domain.limits import PortfolioView, heat_alert_level
from campaign_engine.domain.market import EntrySignal
from campaign_engine.domain.money import difference, plus
from campaign_engine.domain.orders import Order, OrderRecord, client_order_id
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.positions import Position
from campaign_engine.domain.priority import prioritize
from campaign_engine.domain.state import CampaignState, position_uuid
from campaign_engine.domain.types import UtcDatetime
from campaign_engine.domain.vocabulary import OrderPurpose, OrderSide, OrderType


@dataclass(frozen=True, slots=True)
class PreparedEntry:
    """An entry decided as far as the campaign can decide it alone."""

    state: CampaignState  # what the entry is decided against
    signal: EntrySignal
    policy: Policy
    decided: AllocationPlan | Rejection | Allocation

    @property
    def admission_request(self) -> AdmissionRequest | None:
        """What to ask the portfolio; None when the answer does not depend on it."""
        if not isinstance(self.decided, Allocation):
            return None
        state, signal = self.state, self.signal
        exposure = exposure_of(state)
        return AdmissionRequest(
            campaign_id=state.campaign_id,
            signal_id=signal.signal_id,
            symbol=signal.symbol,
            risk_pct=self.decided.risk_pct,
            entry_price=signal.entry_price,
            stop_loss=signal.stop_loss,
            open_risk=exposure.open_risk,
            reserved_risk=exposure.reserved_risk,
            realized_pnl=state.realized_pnl,
            version=state.version,
            policy=self.policy,
        )


def state_for_signal(state: CampaignState | None, signal: EntrySignal) -> CampaignState:
    """The state a signal is decided against: the campaign's own, or a blank one for the
    signal's range while no campaign holds the id (then the newest range defines it)."""
    if state is None:
        return CampaignState.for_range(signal.trading_range)
    renewed = (
        not state.exists
        and signal.campaign_id == state.campaign_id
        and signal.trading_range.id != state.trading_range.id
    )
    if renewed:
        return replace(CampaignState.for_range(signal.trading_range), plans=state.plans)
    return state


def prepare_entry(
    state: CampaignState | None, signal: EntrySignal, policy: Policy
) -> PreparedEntry:
    """Step 1: a known signal id gets its first plan back, against the state unchanged;
    otherwise rules 1-8 reject, or give the allocation the portfolio is asked to admit."""
    known = state.plan_for(signal.signal_id) if state is not None else None
    if state is not None and known is not None:
        return PreparedEntry(state, signal, policy, known)
    state = state_for_signal(state, signal)
    return PreparedEntry(state, signal, policy, precheck_entry(state, signal, policy))


def conclude_entry(entry: PreparedEntry, admission: Admission | None, now: UtcDatetime) -> Outcome:
    """Step 3: the plan, applied. An approval books a pending position and its entry order;
    a rejection changes nothing but remembering the plan, so the same ``signal_id`` always
    returns its first decision."""
    state, signal, policy, decided = entry.state, entry.signal, entry.policy, entry.decided
    if isinstance(decided, AllocationPlan):
        return Outcome(state, plan=decided)
    if isinstance(decided, Allocation) and admission is None:
        raise ValueError(f"entry {signal.signal_id} needs the portfolio's admission")
    plan = plan_entry(state, signal, policy, now, decided, admission)
    if plan.approved:
        return _approve(state, signal, plan, policy, now)
    return _reject(state, signal, plan, now)


def decide_entry(
    state: CampaignState | None,
    signal: EntrySignal,
    portfolio: PortfolioView,
    policy: Policy,
    now: UtcDatetime,
) -> Outcome:
    """The whole pipeline in one process, the portfolio admitting from ``portfolio``: the
    steps production takes, with the reservation in memory instead of in the database."""
    entry = prepare_entry(state, signal, policy)
    request = entry.admission_request
    admission = admit_entry(portfolio, request) if request is not None else None
    return conclude_entry(entry, admission, now)


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """Decisions of a batch, in the order they were made (priority order)."""

    outcomes: tuple[Outcome, ...]
    states: Mapping[str, CampaignState] = field(default_factory=dict)
    portfolio: PortfolioView | None = None


def decide_batch(
    states: Mapping[str, CampaignState],
    signals: Sequence[EntrySignal],
    portfolio: PortfolioView,
    policy: Policy,
    now: UtcDatetime,
) -> BatchOutcome:
    """Competing signals (FR28) decided one by one in ``prioritize`` order, as the client
    submits a batch, each seeing the risk the ones before it reserved, so the best signals get
    the budget."""
    current = dict(states)
    outcomes: list[Outcome] = []
    for signal in prioritize(signals):
        outcome = decide_entry(current.get(signal.campaign_id), signal, portfolio, policy, now)
        current[signal.campaign_id] = outcome.state
        if outcome.state.exists:
            portfolio = portfolio.with_exposure(exposure_of(outcome.state))
        outcomes.append(outcome)
    return BatchOutcome(tuple(outcomes), current, portfolio)


def _reject(
    state: CampaignState, signal: EntrySignal, plan: AllocationPlan, now: UtcDatetime
) -> Outcome:
    new_state = replace(state, plans=(*state.plans, plan))
    rejected = AllocationRejected(
        signal_id=signal.signal_id,
        pattern=signal.pattern,
        code=plan.rejection_code,
        reason=plan.rejection_reason,
    )
    events = announce(new_state, now, str(signal.signal_id), [rejected])
    return Outcome(new_state, events=events, plan=plan)


def _approve(
    state: CampaignState,
    signal: EntrySignal,
    plan: AllocationPlan,
    policy: Policy,
    now: UtcDatetime,
) -> Outcome:
    shares, actual_risk_pct = plan.shares, plan.actual_risk_pct
    assert plan.weight is not None
    position = Position(
        id=position_uuid(state.id, signal.pattern),
        campaign_id=state.campaign_id,
        signal_id=signal.signal_id,
        pattern=signal.pattern,
        symbol=signal.symbol,
        entry_price=signal.entry_price,
        initial_stop=signal.stop_loss,
        stop=signal.stop_loss,
        targets=signal.targets or default_targets(signal.entry_price, state.trading_range),
        weight=plan.weight,
        risk_pct=actual_risk_pct,
        planned_shares=shares,
        approved_at=now,
    )
    correlation_id = str(signal.signal_id)
    order = Order(
        client_order_id=client_order_id(state.campaign_id, signal.pattern, OrderPurpose.ENTRY),
        campaign_id=state.campaign_id,
        position_id=position.id,
        symbol=signal.symbol,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        purpose=OrderPurpose.ENTRY,
        quantity=shares,
        limit_price=signal.entry_price,
        expected_price=signal.entry_price,
        created_at=now,
        correlation_id=correlation_id,
    )
    created = not state.exists
    new_state = replace(
        state,
        positions=(*state.positions, position),
        orders=(*state.orders, OrderRecord(order=order)),
        plans=(*state.plans, plan),
        total_allocation=plus(state.total_allocation, actual_risk_pct),
        version=state.version + 1,
        created_at=state.created_at or now,
        updated_at=now,
    )
    approved = EntryApproved(
        signal_id=signal.signal_id,
        pattern=signal.pattern,
        shares=shares,
        entry_price=signal.entry_price,
        stop_loss=signal.stop_loss,
        risk_pct=actual_risk_pct,
        weight=plan.weight,
        total_allocation=new_state.total_allocation,
    )
    announcements: list[EventData] = [
        CampaignCreated.by(approved, state.symbol, state.trading_range.id) if created else approved
    ]
    heat_after = plan.heat_after_pct if plan.heat_after_pct is not None else actual_risk_pct
    before = heat_alert_level(difference(high=heat_after, low=actual_risk_pct), policy)
    after = heat_alert_level(heat_after, policy)
    if after.severity > before.severity:
        announcements.append(PortfolioHeatAlert(level=after, previous=before, heat_pct=heat_after))
    events = announce(new_state, now, correlation_id, announcements)
    return Outcome(new_state, orders=(order,), events=events, plan=plan)
