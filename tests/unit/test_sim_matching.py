"""The simulated broker's pure rules (SPEC section 5, "Fills at a broker that does not fill at
once"): where a bar fills a resting order, how much of it, what fills as an order is placed,
which orders are refused, and its configuration."""

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from pydantic import ValidationError

from campaign_engine.brokers.sim.config import SimConfig
from campaign_engine.brokers.sim.matching import (
    RestingOrder,
    bar_price,
    fill_on_submit,
    match,
    quantity_per_bar,
)
from campaign_engine.brokers.sim.refusals import (
    draw,
    refused_by_rate,
    refused_for_buying_power,
)
from campaign_engine.domain.orders import Fill, Order
from campaign_engine.domain.types import MoneyValue, PriceValue, QuantityValue
from campaign_engine.domain.vocabulary import OrderPurpose, OrderSide, OrderType
from campaign_engine.testing.builders import T0, bar, tick

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET


@pytest.mark.parametrize(
    ("side", "order_type", "limit", "o", "h", "low", "expected"),
    [
        # The worked Spring entry: a BUY limit at 148.50.
        (BUY, LIMIT, "148.50", "149.00", "149.50", "148.60", None),  # low stays above
        (BUY, LIMIT, "148.50", "149.00", "149.50", "148.50", "148.50"),  # touches: the limit
        (BUY, LIMIT, "148.50", "149.00", "149.50", "148.00", "148.50"),  # through: the limit
        (BUY, LIMIT, "148.50", "148.00", "149.00", "147.80", "148.00"),  # opens below: the open
        # The first target: a SELL limit at 150.00.
        (SELL, LIMIT, "150.00", "149.00", "149.90", "148.80", None),  # high stays below
        (SELL, LIMIT, "150.00", "149.00", "150.00", "148.80", "150.00"),  # touches: the limit
        (SELL, LIMIT, "150.00", "149.00", "151.00", "148.80", "150.00"),  # through: the limit
        (SELL, LIMIT, "150.00", "151.20", "152.00", "150.50", "151.20"),  # opens above: the open
        # A stop or invalidation exit left resting: at the open, whatever the bar does.
        (SELL, MARKET, None, "146.10", "147.00", "145.00", "146.10"),
        (SELL, MARKET, None, "150.00", "152.00", "149.00", "150.00"),
    ],
)
def test_where_a_bar_fills_a_resting_order(
    side: OrderSide,
    order_type: OrderType,
    limit: str | None,
    o: str,
    h: str,
    low: str,
    expected: str | None,
) -> None:
    price = bar_price(
        side=side,
        order_type=order_type,
        limit_price=PriceValue(D(limit)) if limit else None,
        bar=bar(o, h, low, o, 60),
    )
    assert price == (D(expected) if expected else None)


def test_a_tick_is_a_bar_of_one_price() -> None:
    limit = PriceValue(D("148.50"))
    assert bar_price(side=BUY, order_type=LIMIT, limit_price=limit, bar=tick("148.40", 1)) == D(
        "148.40"
    )
    assert bar_price(side=BUY, order_type=LIMIT, limit_price=limit, bar=tick("148.51", 1)) is None


@pytest.mark.parametrize(
    ("fraction", "step", "quantity", "remaining", "expected"),
    [
        ("1", "1", "333", "333", "333"),  # the default: all at once
        ("0.5", "1", "333", "333", "166"),  # floor(166.5)
        ("0.5", "1", "333", "167", "166"),
        ("0.5", "1", "333", "1", "1"),  # never more than remains
        ("0.001", "1", "333", "333", "1"),  # at least one step
        ("0.25", "0.0001", "1.5", "1.5", "0.375"),  # fractional shares
        ("0.3", "10", "100", "100", "30"),
        ("0.3", "10", "100", "5", "5"),
    ],
)
def test_how_much_one_bar_fills(
    fraction: str, step: str, quantity: str, remaining: str, expected: str
) -> None:
    config = SimConfig(fill_fraction=D(fraction), quantity_step=QuantityValue(D(step)))
    got = quantity_per_bar(
        quantity=QuantityValue(D(quantity)), remaining=QuantityValue(D(remaining)), config=config
    )
    assert got == D(expected)


def _resting(filled: str = "0", count: int = 0) -> RestingOrder:
    return RestingOrder(
        client_order_id="AAPL-2024-10-15:SPRING:ENTRY",
        side=BUY,
        order_type=LIMIT,
        limit_price=PriceValue(D("148.50")),
        quantity=QuantityValue(D(333)),
        filled_quantity=QuantityValue(D(filled)),
        fill_count=count,
    )


def test_a_resting_entry_fills_in_numbered_parts_at_the_bars_time() -> None:
    config = SimConfig(fill_fraction=D("0.5"))
    through = bar("149.00", "149.20", "148.10", "148.90", 60)
    first = match(_resting(), through, config)
    assert first == Fill(
        fill_id="AAPL-2024-10-15:SPRING:ENTRY:1",
        client_order_id="AAPL-2024-10-15:SPRING:ENTRY",
        quantity=D(166),
        price=D("148.50"),
        filled_at=through.as_of,
    )
    third = match(_resting(filled="332", count=2), through, config)
    assert third is not None
    assert (third.fill_id, third.quantity) == ("AAPL-2024-10-15:SPRING:ENTRY:3", D(1))
    assert match(_resting(filled="333", count=3), through, config) is None
    assert match(_resting(), bar("149.00", "149.20", "148.60", "148.90", 60), config) is None


def _order(side: OrderSide, *, quantity: str = "333", expected: str = "148.50") -> Order:
    purpose = OrderPurpose.ENTRY if side is BUY else OrderPurpose.STOP
    return Order(
        client_order_id=f"AAPL-2024-10-15:SPRING:{purpose.value}",
        campaign_id="AAPL-2024-10-15",
        position_id=uuid4(),
        symbol="AAPL",
        side=side,
        order_type=LIMIT if side is BUY else MARKET,
        purpose=purpose,
        quantity=QuantityValue(D(quantity)),
        limit_price=PriceValue(D(expected)) if side is BUY else None,
        expected_price=PriceValue(D(expected)),
        created_at=T0 + timedelta(hours=3),
        correlation_id="c",
    )


def test_an_entry_rests_and_an_exit_fills_its_first_part_at_once() -> None:
    config = SimConfig(fill_fraction=D("0.4"))
    assert fill_on_submit(_order(BUY), config) is None
    stop = _order(SELL, quantity="333", expected="146.10")  # a stop gapped through: the open
    assert fill_on_submit(stop, config) == Fill(
        fill_id="AAPL-2024-10-15:SPRING:STOP:1",
        client_order_id="AAPL-2024-10-15:SPRING:STOP",
        quantity=D(133),
        price=D("146.10"),
        filled_at=T0 + timedelta(hours=3),
    )
    whole = fill_on_submit(stop, SimConfig())
    assert whole is not None and whole.quantity == D(333)


def test_the_reject_rate_refuses_the_same_orders_for_the_same_seed() -> None:
    ids = [f"CAMPAIGN-{n}:SPRING:ENTRY" for n in range(2000)]
    draws = [draw(i, "seed-1") for i in ids]
    assert draws == [draw(i, "seed-1") for i in ids]  # same scenario, same draws
    assert draws != [draw(i, "seed-2") for i in ids]
    assert all(D(0) <= d < D(1) for d in draws)
    refused = sum(1 for d in draws if d < D("0.1"))
    assert 140 < refused < 260  # about a tenth of 2,000

    config = SimConfig(reject_rate=D("0.1"), seed="seed-1")
    order = _order(BUY)
    expected = "rejected by simulation (rate 0.1)"
    assert refused_by_rate(order, config) == (
        expected if draw(order.client_order_id, "seed-1") < D("0.1") else None
    )
    assert refused_by_rate(order, SimConfig(reject_rate=D(1))) == "rejected by simulation (rate 1)"
    assert refused_by_rate(order, SimConfig()) is None


def test_a_buy_beyond_the_buying_power_is_refused() -> None:
    config = SimConfig(buying_power=MoneyValue(D("100000")))
    entry = _order(BUY)  # 333 at 148.50 = 49,450.50
    fits = refused_for_buying_power(entry, committed=MoneyValue(D("50549.50")), config=config)
    assert fits is None  # exactly at the limit
    reason = refused_for_buying_power(entry, committed=MoneyValue(D("50549.51")), config=config)
    assert reason == (
        "insufficient buying power: 49450.5 for this order and 50549.51 committed exceed 100000"
    )
    exit_ = _order(SELL)
    assert refused_for_buying_power(exit_, committed=MoneyValue(D("1e9")), config=config) is None
    assert (
        refused_for_buying_power(entry, committed=MoneyValue(D("1e9")), config=SimConfig()) is None
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fill_fraction", "0", "greater than 0"),
        ("fill_fraction", "1.01", "less than or equal to 1"),
        ("fill_fraction", "NaN", "finite"),
        ("quantity_step", "0", "greater than 0"),
        ("buying_power", "-1", "greater than 0"),
        ("reject_rate", "-0.1", "greater than or equal to 0"),
        ("reject_rate", "1.5", "less than or equal to 1"),
        ("unknown", "1", "Extra inputs are not permitted"),
    ],
)
def test_the_config_refuses_what_cannot_be_simulated(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        SimConfig.model_validate({field: value})
    ((problem,),) = [error.value.errors()]
    assert problem["loc"] == (field,)
    assert message in problem["msg"]


def test_the_config_defaults_fill_whole_and_refuse_nothing() -> None:
    config = SimConfig()
    assert (config.fill_fraction, config.quantity_step) == (D(1), D(1))
    assert (config.buying_power, config.reject_rate) == (None, D(0))
