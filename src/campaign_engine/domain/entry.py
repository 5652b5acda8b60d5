"""The entry decision: SPEC section 3's rules, in their order, turned into an AllocationPlan.

Deciding is separate from applying the decision (``campaign.decide_entry``) so that the rules
read top to bottom in one place and can be evaluated without building any new state.
"""

from dataclasses import dataclass
from decimal import Decimal

from campaign_engine.domain.allocation import Allocation, allocate
from campaign_engine.domain.exits import has_default_target
from campaign_engine.domain.limits import PortfolioView, check_portfolio_limits
from campaign_engine.domain.market import EntrySignal
from campaign_engine.domain.money import ZERO
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.priority import priority_score
from campaign_engine.domain.sizing import size_position
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import UtcDatetime
from campaign_engine.domain.vocabulary import AFTER, Pattern, RejectionCode


@dataclass(frozen=True, slots=True)
class _Rejection:
    code: RejectionCode
    reason: str


def _validation_rejection(state: CampaignState, signal: EntrySignal) -> _Rejection | None:
    """Rule 1, the checks that need the campaign (the signal validated itself on creation)."""
    if signal.pattern is Pattern.UTAD:
        return _Rejection(RejectionCode.SHORT_NOT_SUPPORTED, "short campaigns are not supported")
    same_range = signal.trading_range.id == state.trading_range.id
    if not same_range and signal.campaign_id != state.campaign_id:
        return _Rejection(
            RejectionCode.SIGNAL_MISMATCH,
            f"signal belongs to campaign {signal.campaign_id}, not {state.campaign_id}",
        )
    if state.exists and not same_range:
        return _Rejection(RejectionCode.RANGE_CONFLICT, "campaign id already used by another range")
    if signal.targets is None and not has_default_target(signal.entry_price, state.trading_range):
        return _Rejection(
            RejectionCode.NO_TARGET,
            f"no range level lies above entry {signal.entry_price}; the signal must give targets",
        )
    return None


def _progress_rejection(state: CampaignState, signal: EntrySignal) -> _Rejection | None:
    """Rules 2-4: closed campaign, duplicate pattern, out of sequence."""
    if state.is_closed:
        return _Rejection(
            RejectionCode.CAMPAIGN_CLOSED, f"campaign is {state.status.value}: no new entries"
        )
    pattern, taken = signal.pattern, state.taken_patterns
    if pattern in taken:
        return _Rejection(
            RejectionCode.DUPLICATE_PATTERN, f"{pattern.value} already taken in this campaign"
        )
    later = [p for p in AFTER[pattern] if p in taken]
    if later:
        return _Rejection(
            RejectionCode.OUT_OF_SEQUENCE,
            f"{pattern.value} cannot follow {later[-1].value} (order is SPRING -> SOS -> LPS)",
        )
    return None


def _confidence_rejection(
    state: CampaignState, signal: EntrySignal, policy: Policy
) -> _Rejection | None:
    if signal.confidence < policy.min_confidence:
        return _Rejection(
            RejectionCode.LOW_CONFIDENCE,
            f"confidence {signal.confidence} is below the minimum {policy.min_confidence}",
        )
    sole_lps = signal.pattern is Pattern.LPS and not (
        state.taken_patterns & {Pattern.SPRING, Pattern.SOS}
    )
    if sole_lps and signal.confidence < policy.lps_sole_min_confidence:
        return _Rejection(
            RejectionCode.LOW_CONFIDENCE,
            f"an LPS as sole entry needs confidence {policy.lps_sole_min_confidence}, "
            f"got {signal.confidence}",
        )
    return None


def _plan(
    state: CampaignState,
    signal: EntrySignal,
    now: UtcDatetime,
    heat_pct: Decimal,
    allocation: Allocation | None,
    policy: Policy,
    *,
    shares: Decimal = ZERO,
    risk_amount: Decimal = ZERO,
    actual_risk_pct: Decimal = ZERO,
    rejection: _Rejection | None = None,
) -> AllocationPlan:
    return AllocationPlan(
        campaign_id=state.campaign_id,
        signal_id=signal.signal_id,
        symbol=signal.symbol,
        pattern=signal.pattern,
        weight=allocation.weight if allocation else None,
        target_risk_pct=allocation.target_risk_pct if allocation else None,
        requested_risk_pct=allocation.base_risk_pct if allocation else signal.requested_risk_pct,
        approved_risk_pct=allocation.risk_pct if allocation and not rejection else None,
        actual_risk_pct=actual_risk_pct,
        shares=shares,
        risk_amount=risk_amount,
        remaining_budget_pct=policy.campaign_max_risk_pct
        - state.total_allocation
        - actual_risk_pct,
        heat_after_pct=heat_pct + actual_risk_pct,
        priority_score=priority_score(signal),
        is_rebalanced=allocation.is_rebalanced if allocation else False,
        rebalance_reason=allocation.rebalance_reason if allocation else None,
        approved=rejection is None,
        rejection_code=rejection.code if rejection else None,
        rejection_reason=rejection.reason if rejection else None,
        decided_at=now,
    )


def evaluate_entry(
    state: CampaignState,
    signal: EntrySignal,
    portfolio: PortfolioView,
    policy: Policy,
    now: UtcDatetime,
) -> AllocationPlan:
    """Rules 1-10 of SPEC section 3; the first failing rule decides the rejection."""
    heat = portfolio.heat_pct()
    rejection = (
        _validation_rejection(state, signal)
        or _progress_rejection(state, signal)
        or _confidence_rejection(state, signal, policy)
    )
    if rejection:
        return _plan(state, signal, now, heat, None, policy, rejection=rejection)

    taken = {p.pattern: p.weight for p in state.positions}
    allocation = allocate(
        signal.pattern, taken, state.trading_range, signal.requested_risk_pct, policy
    )
    risk_pct = allocation.risk_pct
    if state.total_allocation + risk_pct > policy.campaign_max_risk_pct:
        reason = (
            f"exceeds remaining budget: {state.total_allocation}% allocated + {risk_pct}% > "
            f"{policy.campaign_max_risk_pct}%"
        )
        rejection = _Rejection(RejectionCode.CAMPAIGN_BUDGET, reason)
        return _plan(state, signal, now, heat, allocation, policy, rejection=rejection)
    breach = check_portfolio_limits(portfolio, signal.symbol, risk_pct, policy, heat)
    if breach:
        rejection = _Rejection(breach.code, breach.reason)
        return _plan(state, signal, now, heat, allocation, policy, rejection=rejection)
    size = size_position(
        portfolio.equity, risk_pct, signal.entry_price, signal.stop_loss, policy.quantity_step
    )
    if size.shares <= ZERO:
        reason = (
            f"position too small: {risk_pct}% of {portfolio.equity} at "
            f"{signal.risk_per_share} risk per share is less than {policy.quantity_step} share"
        )
        rejection = _Rejection(RejectionCode.POSITION_TOO_SMALL, reason)
        return _plan(state, signal, now, heat, allocation, policy, rejection=rejection)
    return _plan(
        state,
        signal,
        now,
        heat,
        allocation,
        policy,
        shares=size.shares,
        risk_amount=size.risk_amount,
        actual_risk_pct=size.risk_pct,
    )
