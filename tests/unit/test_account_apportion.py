"""How the account's one position per symbol is shared among the campaigns on it: shares
missing are taken from the campaigns opened last."""

from datetime import timedelta
from decimal import Decimal

import pytest

from campaign_engine.domain.account import Claim, apportion, claimed
from campaign_engine.testing.builders import T0

D = Decimal

# Three campaigns on one symbol, opened a day apart: a Spring of 333 shares (SPEC's worked
# example), a later one of 200 and a last one of 100.
FIRST = Claim("first", T0, revision=4, open_shares=D(333))
SECOND = Claim("second", T0 + timedelta(days=1), revision=2, open_shares=D(200))
THIRD = Claim("third", T0 + timedelta(days=2), revision=7, open_shares=D(100))


@pytest.mark.parametrize(
    ("held", "available", "short"),
    [
        (D(633), (D(633), D(300), D(100)), ()),  # the account holds every share claimed
        (D(700), (D(700), D(367), D(167)), ()),  # more than claimed: nobody is short
        (D(583), (D(583), D(250), D(50)), ("third",)),  # 50 sold: the last opened books them
        (D(533), (D(533), D(200), D(0)), ("third",)),
        (D(433), (D(433), D(100), D(0)), ("second", "third")),
        (D("332.5"), (D("332.5"), D(0), D(0)), ("first", "second", "third")),
        (D(0), (D(0), D(0), D(0)), ("first", "second", "third")),
    ],
)
def test_shares_missing_are_taken_from_the_campaigns_opened_last(
    held: Decimal, available: tuple[Decimal, ...], short: tuple[str, ...]
) -> None:
    shares = apportion(held, [THIRD, FIRST, SECOND])  # in any order given
    assert [s.claim.campaign_id for s in shares] == ["first", "second", "third"]
    assert tuple(s.available for s in shares) == available
    assert tuple(s.claim.campaign_id for s in shares if s.short) == short
    # What the short campaigns may count on is exactly what the account holds of their shares.
    missing = sum((s.claim.open_shares - s.available for s in shares if s.short), D(0))
    assert missing == max(claimed([FIRST, SECOND, THIRD]) - held, D(0))


def test_campaigns_opened_at_the_same_moment_go_by_id_as_bytes() -> None:
    upper = Claim("Zeta", T0, revision=1, open_shares=D(10))
    lower = Claim("alpha", T0, revision=1, open_shares=D(10))
    shares = apportion(D(10), [lower, upper])
    # "Z" (0x5A) sorts before "a" (0x61), as PostgreSQL's COLLATE "C" orders them.
    assert [(s.claim.campaign_id, s.available, s.short) for s in shares] == [
        ("Zeta", D(10), False),
        ("alpha", D(0), True),
    ]


def test_a_symbol_nobody_claims_has_no_shares_to_give() -> None:
    assert apportion(D(100), []) == ()
    assert claimed([]) == 0
