"""SPEC section 3's worked example, equity 100,000, range AAPL ice 150 jump 156."""

from decimal import Decimal

import pytest

from campaign_engine.domain.allocation import allocate, bmad_weight
from campaign_engine.domain.policy import DEFAULT_POLICY, Policy
from campaign_engine.domain.sizing import size_position
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import (
    EQUITY,
    Book,
    as_money,
    as_percent,
    as_price,
    as_shares,
    signal,
    trading_range,
)

D = Decimal
SPRING, SOS, LPS = Pattern.SPRING, Pattern.SOS, Pattern.LPS


def test_spring_sos_lps_sizes_and_total_allocation() -> None:
    book = Book(fill_orders=False)
    spring = book.submit(signal(SPRING))
    sos = book.submit(signal(SOS))
    lps = book.submit(signal(LPS))

    assert (spring.shares, spring.risk_amount, spring.actual_risk_pct) == (
        D(333),
        D("499.50"),
        D("0.4995"),
    )
    assert (sos.shares, sos.risk_amount) == (D(666), D("999.00"))
    assert (lps.shares, lps.risk_amount) == (D(400), D("600.00"))
    assert [p.approved_risk_pct for p in (spring, sos, lps)] == [D("0.5"), D("1.0"), D("0.6")]
    assert book.state.total_allocation == D("2.0985")
    assert lps.remaining_budget_pct == D("5.0") - D("2.0985")


def test_sos_with_spring_skipped_gets_two_percent_and_1333_shares() -> None:
    plan = Book().submit(signal(SOS))
    assert plan.approved
    assert plan.weight == D("0.70")
    assert plan.approved_risk_pct == D("2.0")
    assert plan.shares == D(1333)
    assert plan.is_rebalanced
    assert plan.rebalance_reason is not None and "SPRING" in plan.rebalance_reason


# taken before -> weight, target risk %, risk % of the entry (FR16 scaled, capped)
WEIGHTS = [
    pytest.param(SPRING, {}, "0.40", "2.0", "0.5", False, id="spring-first"),
    pytest.param(SOS, {}, "0.70", "3.5", "2.0", True, id="sos-spring-skipped"),
    pytest.param(LPS, {}, "1.00", "5.0", "2.0", True, id="lps-sole-entry"),
    pytest.param(SOS, {SPRING: "0.40"}, "0.30", "1.5", "1.0", False, id="sos-after-spring"),
    pytest.param(LPS, {SPRING: "0.40"}, "0.60", "3.0", "1.2", True, id="lps-sos-skipped"),
    pytest.param(LPS, {SOS: "0.70"}, "0.30", "1.5", "0.6", False, id="lps-after-rebalanced-sos"),
    pytest.param(
        LPS, {SPRING: "0.40", SOS: "0.30"}, "0.30", "1.5", "0.6", False, id="lps-after-both"
    ),
]


@pytest.mark.parametrize(("pattern", "taken", "weight", "target", "risk", "rebalanced"), WEIGHTS)
def test_bmad_weight_table(
    pattern: Pattern,
    taken: dict[Pattern, str],
    weight: str,
    target: str,
    risk: str,
    rebalanced: bool,
) -> None:
    taken_weights = {p: D(w) for p, w in taken.items()}
    allocation = allocate(
        pattern, taken_weights, trading_range(), requested_risk_pct=None, policy=DEFAULT_POLICY
    )
    assert allocation.weight == D(weight)
    assert allocation.target_risk_pct == D(target)
    assert allocation.risk_pct == D(risk)
    assert allocation.is_rebalanced is rebalanced


def test_weights_of_a_full_campaign_sum_to_the_whole_budget() -> None:
    weights = DEFAULT_POLICY.bmad_weights
    taken: dict[Pattern, Decimal] = {}
    for pattern in (SPRING, SOS, LPS):
        taken[pattern] = bmad_weight(pattern, taken, weights)
    assert sum(taken.values()) == 1
    targets = [w * DEFAULT_POLICY.campaign_max_risk_pct for w in taken.values()]
    assert targets == [D("2.0"), D("1.5"), D("1.5")]


def test_requested_risk_replaces_the_pattern_default_and_is_still_capped() -> None:
    rng = trading_range()
    assert allocate(
        SPRING, {}, rng, requested_risk_pct=as_percent("1.0"), policy=DEFAULT_POLICY
    ).risk_pct == D("1.0")
    assert allocate(
        SPRING, {}, rng, requested_risk_pct=as_percent("3.0"), policy=DEFAULT_POLICY
    ).risk_pct == D("2.0")  # trade cap
    tight = Policy(per_trade_max_risk_pct=D("5"))
    assert allocate(
        SPRING, {}, rng, requested_risk_pct=as_percent("3.0"), policy=tight
    ).risk_pct == D("2.0")  # target 40% of 5%


@pytest.mark.parametrize(
    ("creek", "adaptation", "spring", "sos_first"),
    [
        pytest.param("120.00", True, "0.50", "0.75", id="wide-25pct"),
        pytest.param("135.00", True, "0.40", "0.70", id="standard-11pct"),
        pytest.param("145.00", True, "0.35", "0.70", id="narrow-3.4pct"),
        pytest.param("145.00", False, "0.40", "0.70", id="narrow-adaptation-off"),
    ],
)
def test_range_width_adaptation(creek: str, adaptation: bool, spring: str, sos_first: str) -> None:
    policy = Policy(range_width_adaptation=adaptation)
    rng = trading_range(creek=creek)
    assert allocate(SPRING, {}, rng, requested_risk_pct=None, policy=policy).weight == D(spring)
    assert allocate(SOS, {}, rng, requested_risk_pct=None, policy=policy).weight == D(sos_first)


@pytest.mark.parametrize(
    ("equity", "risk_pct", "entry", "stop", "step", "shares"),
    [
        ("100000", "0.5", "148.50", "147.00", "1", "333"),
        ("100000", "1.0", "150.25", "148.75", "1", "666"),
        ("100000", "0.6", "151.00", "149.50", "1", "400"),
        ("100000", "2.0", "150.25", "148.75", "1", "1333"),
        ("100000", "0.5", "148.50", "147.00", "0.0001", "333.3333"),
        ("1000", "0.5", "148.50", "147.00", "1", "3"),
        ("100", "0.5", "148.50", "147.00", "1", "0"),
    ],
)
def test_sizing_floors_to_the_quantity_step(
    equity: str, risk_pct: str, entry: str, stop: str, step: str, shares: str
) -> None:
    size = size_position(
        equity=as_money(equity),
        risk_pct=as_percent(risk_pct),
        entry=as_price(entry),
        stop=as_price(stop),
        step=as_shares(step),
    )
    assert size.shares == D(shares)
    assert size.risk_amount == D(shares) * (D(entry) - D(stop))
    assert size.risk_amount <= D(equity) * D(risk_pct) / 100


def test_equity_drives_size() -> None:
    plan = Book(equity=as_money(EQUITY * 2)).submit(signal(SPRING))
    assert plan.shares == D(666)
