"""FR28: which of several competing signals is decided first (SPEC section 3 rule 11)."""

from collections.abc import Iterable
from decimal import Decimal

from campaign_engine.domain.market import EntrySignal
from campaign_engine.domain.money import HUNDRED, ZERO
from campaign_engine.domain.vocabulary import Pattern

PATTERN_PRIORITY: dict[Pattern, Decimal] = {
    Pattern.SPRING: Decimal(100),
    Pattern.LPS: Decimal(80),
    Pattern.SOS: Decimal(60),
    Pattern.UTAD: Decimal(40),
}
_CONFIDENCE_WEIGHT = Decimal("0.4")
_R_WEIGHT = Decimal("0.3")
_PATTERN_WEIGHT = Decimal("0.3")
_R_SCALE = Decimal(10)


def priority_score(signal: EntrySignal) -> Decimal:
    """confidence*0.4 + min(max(r*10, 0), 100)*0.3 + pattern_priority*0.3 (0..100)."""
    r_component = min(max(signal.r_multiple * _R_SCALE, ZERO), HUNDRED)
    return (
        signal.confidence * _CONFIDENCE_WEIGHT
        + r_component * _R_WEIGHT
        + PATTERN_PRIORITY[signal.pattern] * _PATTERN_WEIGHT
    )


def prioritize(signals: Iterable[EntrySignal]) -> list[EntrySignal]:
    """Highest score first; ties by pattern priority, then earlier ``generated_at``, then
    ``signal_id`` so the order is total and the same on every run."""
    return sorted(
        signals,
        key=lambda s: (
            -priority_score(s),
            -PATTERN_PRIORITY[s.pattern],
            s.generated_at,
            str(s.signal_id),
        ),
    )
