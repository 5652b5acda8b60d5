"""FR28 prioritisation (SPEC section 3 rule 11)."""

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from campaign_engine.domain.priority import prioritize, priority_score
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import T0, signal

D = Decimal
SPRING, SOS, LPS, UTAD = Pattern.SPRING, Pattern.SOS, Pattern.LPS, Pattern.UTAD


@pytest.mark.parametrize(
    ("pattern", "confidence", "r", "score"),
    [
        (SPRING, 75, "3.0", "69.0"),
        (SOS, 85, "2.8", "60.4"),
        (LPS, 80, "3.5", "66.5"),
        (SOS, 80, "2.8", "58.4"),  # the story's 50.4 is a slip
        (UTAD, 80, "2.0", "50.0"),
        (SPRING, 70, "0", "58.0"),
        (SPRING, 100, "25", "100.0"),  # r component is capped at 100
    ],
)
def test_priority_score(pattern: Pattern, confidence: int, r: str, score: str) -> None:
    assert priority_score(signal(pattern, confidence=confidence, r_multiple=r)) == D(score)


def test_spring_beats_a_more_confident_sos_and_lps_beats_sos() -> None:
    spring = signal(SPRING, confidence=75, r_multiple="3.0")
    sos = signal(SOS, confidence=85, r_multiple="2.8")
    lps = signal(LPS, confidence=80, r_multiple="3.5")
    weak_sos = signal(SOS, confidence=80, r_multiple="2.8")
    assert prioritize([weak_sos, sos, lps, spring]) == [spring, lps, sos, weak_sos]


def test_ties_by_pattern_priority_then_time_then_signal_id() -> None:
    # Equal scores: SOS 90/3.0 = 36+9+18 = 63; LPS 75/3.0 = 30+9+24 = 63.
    sos = signal(SOS, confidence=90, r_multiple="3.0")
    lps = signal(LPS, confidence=75, r_multiple="3.0")
    assert priority_score(sos) == priority_score(lps)
    assert prioritize([sos, lps]) == [lps, sos]

    early = signal(SOS, at=T0, signal_id=UUID(int=9))
    late = signal(SOS, at=T0 + timedelta(seconds=1), signal_id=UUID(int=1))
    assert prioritize([late, early]) == [early, late]

    a = signal(SOS, signal_id=UUID(int=1))
    b = signal(SOS, signal_id=UUID(int=2))
    assert prioritize([b, a]) == [a, b]
