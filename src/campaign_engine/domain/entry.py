"""The entry decision: SPEC section 3's rules, in their order, turned into an AllocationPlan.

Deciding is separate from applying the decision (``campaign.entries``) so that the rules read
top to bottom in one place. Rules 1-8 need only the campaign (``precheck_entry``); rules 9-10
need the whole portfolio (``admit_entry``), which production asks under a database lock.
"""

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from pydantic import Field

from campaign_engine.domain.allocation import Allocation, allocate
from campaign_engine.domain.exits import has_default_target
from campaign_engine.domain.limits import Exposure, PortfolioView, check_portfolio_limits
from campaign_engine.domain.market import EntrySignal
from campaign_engine.domain.money import NO_MONEY, NO_PERCENT, NO_SHARES, difference, plus
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.priority import priority_score
from campaign_engine.domain.sizing import size_position
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.trading_state import entry_refusal
from campaign_engine.domain.types import (
    MAX_SHARES,
    Money,
    MoneyValue,
    Percent,
    PercentValue,
    Price,
    QuantityValue,
    Symbol,
    UtcDatetime,
)
from campaign_engine.domain.vocabulary import AFTER, CampaignStatus, Pattern, RejectionCode


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a rule refused an entry."""

    code: RejectionCode
    reason: str


def _validation_rejection(state: CampaignState, signal: EntrySignal) -> Rejection | None:
    """Rule 1, the checks that need the campaign (the signal validated itself on creation)."""
    if signal.pattern is Pattern.UTAD:
        return Rejection(RejectionCode.SHORT_NOT_SUPPORTED, "short campaigns are not supported")
    same_range = signal.trading_range.id == state.trading_range.id
    if not same_range and signal.campaign_id != state.campaign_id:
        return Rejection(
            RejectionCode.SIGNAL_MISMATCH,
            f"signal belongs to campaign {signal.campaign_id}, not {state.campaign_id}",
        )
    if state.exists and not same_range:
        return Rejection(RejectionCode.RANGE_CONFLICT, "campaign id already used by another range")
    if signal.targets is None and not has_default_target(signal.entry_price, state.trading_range):
        return Rejection(
            RejectionCode.NO_TARGET,
            f"no range level lies above entry {signal.entry_price}; the signal must give targets",
        )
    return None


def _progress_rejection(state: CampaignState, signal: EntrySignal) -> Rejection | None:
    """Rules 2-4: closed campaign, duplicate pattern, out of sequence."""
    if state.is_closed:
        return Rejection(
            RejectionCode.CAMPAIGN_CLOSED, f"campaign is {state.status.value}: no new entries"
        )
    if state.status is CampaignStatus.QUARANTINED:
        return Rejection(
            RejectionCode.CAMPAIGN_QUARANTINED,
            f"campaign is QUARANTINED ({state.quarantine_reason}): no new entries",
        )
    pattern, taken = signal.pattern, state.taken_patterns
    if pattern in taken:
        return Rejection(
            RejectionCode.DUPLICATE_PATTERN, f"{pattern.value} already taken in this campaign"
        )
    later = [p for p in AFTER[pattern] if p in taken]
    if later:
        return Rejection(
            RejectionCode.OUT_OF_SEQUENCE,
            f"{pattern.value} cannot follow {later[-1].value} (order is SPRING -> SOS -> LPS)",
        )
    return None


def _confidence_rejection(
    state: CampaignState, signal: EntrySignal, policy: Policy
) -> Rejection | None:
    if signal.confidence < policy.min_confidence:
        return Rejection(
            RejectionCode.LOW_CONFIDENCE,
            f"confidence {signal.confidence} is below the minimum {policy.min_confidence}",
        )
    sole_lps = signal.pattern is Pattern.LPS and not (
        state.taken_patterns & {Pattern.SPRING, Pattern.SOS}
    )
    if sole_lps and signal.confidence < policy.lps_sole_min_confidence:
        return Rejection(
            RejectionCode.LOW_CONFIDENCE,
            f"an LPS as sole entry needs confidence {policy.lps_sole_min_confidence}, "
            f"got {signal.confidence}",
        )
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Admission:
    """The portfolio's answer to an entry (rules 9-10): within the limits and how large.

    It is decided where the portfolio can be locked (an activity), then handed back to the
    campaign, so it is plain data that serialises."""

    rejection: Rejection | None = None
    shares: QuantityValue = NO_SHARES
    risk_amount: MoneyValue = NO_MONEY
    risk_pct: PercentValue = NO_PERCENT
    equity: MoneyValue
    # None when equity is at or below zero: no percentage of it is reported (SPEC section 11).
    heat_before_pct: PercentValue | None

    @property
    def approved(self) -> bool:
        return self.rejection is None


def precheck_entry(
    state: CampaignState, signal: EntrySignal, policy: Policy
) -> Rejection | Allocation:
    """Rules 1-8: everything the campaign can decide on its own, before asking the
    portfolio. Returns the first rejection, or the allocation to ask the portfolio for."""
    rejection = (
        _validation_rejection(state, signal)
        or _progress_rejection(state, signal)
        or _confidence_rejection(state, signal, policy)
    )
    if rejection:
        return rejection
    taken = {p.pattern: p.weight for p in state.positions}
    allocation = allocate(
        signal.pattern,
        taken,
        state.trading_range,
        requested_risk_pct=signal.requested_risk_pct,
        policy=policy,
    )
    if plus(state.total_allocation, allocation.risk_pct) > policy.campaign_max_risk_pct:
        return Rejection(
            RejectionCode.CAMPAIGN_BUDGET,
            f"exceeds remaining budget: {state.total_allocation}% allocated + "
            f"{allocation.risk_pct}% > {policy.campaign_max_risk_pct}%",
        )
    return allocation


@dataclass(frozen=True, slots=True, kw_only=True)
class AdmissionRequest:
    """What an entry that passed rules 1-8 asks of the portfolio (rules 9-10): admit
    ``risk_pct`` of equity on ``symbol`` at this entry and stop. The campaign states its own
    exposure, realized P&L and version itself, because the portfolio's copy of them may lag
    behind the campaign; the portfolio sums every other campaign's risk.

    Plain data that serialises: in production the database admits it under a lock."""

    campaign_id: str
    signal_id: UUID
    symbol: Symbol
    risk_pct: Percent
    entry_price: Price
    stop_loss: Price
    open_risk: Money
    reserved_risk: Money
    realized_pnl: Money
    version: Annotated[int, Field(ge=0)]  # the campaign's, before this entry
    policy: Policy

    @property
    def exposure(self) -> Exposure:
        """The campaign's own risk, as it states it."""
        return Exposure(
            campaign_id=self.campaign_id,
            symbol=self.symbol,
            open_risk=self.open_risk,
            reserved_risk=self.reserved_risk,
        )


def admit_entry(portfolio: PortfolioView, request: AdmissionRequest) -> Admission:
    """Rules 9-10, the one reservation: the trading state (SPEC section 11: only an ACTIVE
    portfolio with equity above zero takes entries), portfolio heat and correlated risk, then
    the size on current equity. ``portfolio`` is every campaign's risk; the requesting
    campaign's is taken from the request."""
    policy = request.policy
    symbol, risk_pct = request.symbol, request.risk_pct
    entry_price, stop_loss = request.entry_price, request.stop_loss
    portfolio = portfolio.with_exposure(request.exposure)
    equity = portfolio.equity
    halted = entry_refusal(portfolio.trading_state, portfolio.trading_reason, equity)
    if halted is not None:
        heat_known = equity > NO_MONEY
        return Admission(
            rejection=Rejection(RejectionCode.TRADING_HALTED, halted),
            equity=equity,
            heat_before_pct=portfolio.heat_pct() if heat_known else None,
        )
    heat = portfolio.heat_pct()
    breach = check_portfolio_limits(portfolio, symbol, risk_pct=risk_pct, policy=policy, heat=heat)
    if breach:
        return Admission(
            rejection=Rejection(breach.code, breach.reason),
            equity=equity,
            heat_before_pct=heat,
        )
    size = size_position(
        equity=equity,
        risk_pct=risk_pct,
        entry=entry_price,
        stop=stop_loss,
        step=policy.quantity_step,
    )
    if size.shares <= NO_SHARES:
        return Admission(
            rejection=Rejection(
                RejectionCode.POSITION_TOO_SMALL,
                f"position too small: {risk_pct}% of {equity} at "
                f"{difference(high=entry_price, low=stop_loss)} "
                f"risk per share is less than {policy.quantity_step} share",
            ),
            equity=equity,
            heat_before_pct=heat,
        )
    if size.shares > MAX_SHARES:
        return Admission(
            rejection=Rejection(
                RejectionCode.POSITION_TOO_LARGE,
                f"position too large: {risk_pct}% of {equity} at "
                f"{difference(high=entry_price, low=stop_loss)} risk per share is "
                f"{size.shares} shares, more than the {MAX_SHARES:,.0f} one position may hold",
            ),
            equity=equity,
            heat_before_pct=heat,
        )
    return Admission(
        shares=size.shares,
        risk_amount=size.risk_amount,
        risk_pct=size.risk_pct,
        equity=equity,
        heat_before_pct=heat,
    )


def plan_entry(
    state: CampaignState,
    signal: EntrySignal,
    policy: Policy,
    now: UtcDatetime,
    decided: Rejection | Allocation,
    admission: Admission | None = None,
) -> AllocationPlan:
    """The AllocationPlan of a decision: a precheck rejection, or an allocation with the
    portfolio's admission (approved or not)."""
    allocation = decided if isinstance(decided, Allocation) else None
    rejection = decided if isinstance(decided, Rejection) else None
    if admission is not None and admission.rejection is not None:
        rejection = admission.rejection
    approved = rejection is None and admission is not None
    actual = admission.risk_pct if approved and admission else NO_PERCENT
    heat = admission.heat_before_pct if admission else None
    return AllocationPlan(
        campaign_id=state.campaign_id,
        signal_id=signal.signal_id,
        symbol=signal.symbol,
        pattern=signal.pattern,
        weight=allocation.weight if allocation else None,
        target_risk_pct=allocation.target_risk_pct if allocation else None,
        requested_risk_pct=allocation.base_risk_pct if allocation else signal.requested_risk_pct,
        approved_risk_pct=allocation.risk_pct if allocation and approved else None,
        actual_risk_pct=actual,
        shares=admission.shares if approved and admission else NO_SHARES,
        risk_amount=admission.risk_amount if approved and admission else NO_MONEY,
        remaining_budget_pct=difference(
            high=difference(high=policy.campaign_max_risk_pct, low=state.total_allocation),
            low=actual,
        ),
        heat_after_pct=plus(heat, actual) if heat is not None else None,
        priority_score=priority_score(signal),
        is_rebalanced=allocation.is_rebalanced if allocation else False,
        rebalance_reason=allocation.rebalance_reason if allocation else None,
        approved=approved,
        rejection_code=rejection.code if rejection else None,
        rejection_reason=rejection.reason if rejection else None,
        decided_at=now,
        policy_id=policy.policy_id,
    )
