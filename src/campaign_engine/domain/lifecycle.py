"""Which status changes are allowed, and who may make them (SPEC section 4)."""

from campaign_engine.domain.errors import CampaignClosed, InvalidTransition, VersionConflict
from campaign_engine.domain.vocabulary import CampaignPhase, CampaignStatus, Pattern

OPERATOR_TRANSITIONS: frozenset[tuple[CampaignStatus, CampaignStatus]] = frozenset(
    {(CampaignStatus.ACTIVE, CampaignStatus.MARKUP)}
)
"""The only change an operator PATCH may make; invalidation has its own command and
COMPLETED is reached by closing positions, never by decree."""


def phase_for(status: CampaignStatus, current: CampaignPhase) -> CampaignPhase:
    return CampaignPhase.MARKUP if status is CampaignStatus.MARKUP else current


def status_after_entry_fill(status: CampaignStatus, pattern: Pattern) -> CampaignStatus:
    """The first SOS or LPS fill moves an ACTIVE campaign into MARKUP."""
    if status is CampaignStatus.ACTIVE and pattern in (Pattern.SOS, Pattern.LPS):
        return CampaignStatus.MARKUP
    return status


def require_open(status: CampaignStatus, campaign_id: str) -> None:
    if status.is_terminal:
        raise CampaignClosed(f"campaign {campaign_id} is already {status.value}")


def require_version(current: int, expected: int, campaign_id: str) -> None:
    if current != expected:
        raise VersionConflict(
            f"campaign {campaign_id} is at version {current}, not {expected}: reload and retry"
        )


def require_operator_transition(current: CampaignStatus, requested: CampaignStatus) -> None:
    if current.is_terminal:
        raise InvalidTransition(f"a {current.value} campaign cannot change status")
    if (current, requested) not in OPERATOR_TRANSITIONS:
        allowed = ", ".join(f"{a.value} -> {b.value}" for a, b in sorted(OPERATOR_TRANSITIONS))
        raise InvalidTransition(
            f"{current.value} -> {requested.value} is not an operator transition (allowed: "
            f"{allowed}; use invalidate to end a campaign)"
        )
