"""Typed events: each kind goes out under its SPEC section 7 type, crosses the workflow ->
activity boundary through the data converter unchanged, and serialises to the documented JSON
(``event_json``)."""

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any, get_args
from uuid import UUID

import pytest

from campaign_engine.domain.campaign import invalidate
from campaign_engine.domain.events import (
    AllocationRejected,
    AllPositionsExited,
    CampaignCompleted,
    CampaignCreated,
    CampaignEvent,
    CampaignInvalidated,
    CampaignQuarantined,
    EntryApproved,
    EntryFilled,
    EventData,
    ExitExecuted,
    ExitsTriggered,
    FlatteningRetried,
    OrderLeg,
    PortfolioHeatAlert,
    PositionOpened,
    StatusChanged,
    StopMove,
    StopsTrailed,
    TradingStateChanged,
    make_event,
)
from campaign_engine.domain.order_events import (
    BrokerDifference,
    EntryReleased,
    ExitOrderFailed,
    OrderCancelRequested,
)
from campaign_engine.domain.types import MoneyValue, PriceValue, QuantityValue
from campaign_engine.domain.vocabulary import (
    CampaignPhase,
    CampaignStatus,
    EventType,
    HeatAlertLevel,
    OrderPurpose,
    OrderStatus,
    Pattern,
    RejectionCode,
    TradingState,
)
from campaign_engine.formats.event_json import event_from_json, event_to_json
from campaign_engine.services.notifications import summarize
from campaign_engine.temporal.converter import data_converter
from campaign_engine.temporal.messages import PersistRequest
from campaign_engine.testing.builders import (
    T0,
    Book,
    as_money,
    as_percent,
    as_price,
    as_shares,
    signal,
    tick,
)

D = Decimal
SIGNAL = UUID("5f0c3a52-2d7e-4b8e-9a43-3e1d8a7b9c01")
POSITION = UUID("f1a114b4-ac32-5b29-9335-e219fed5c607")
RANGE = UUID("00000000-0000-4000-8000-000000000001")
LEG = OrderLeg(client_order_id="AAPL-2024-10-15:SPRING:TARGET_1", quantity=as_shares(166))
MOVE = StopMove(pattern=Pattern.SPRING, previous_stop=as_price("147.00"), stop=as_price("148.50"))
ENTRY: dict[str, Any] = {
    "signal_id": SIGNAL,
    "pattern": Pattern.SPRING,
    "shares": D(333),
    "entry_price": D("148.50"),
    "stop_loss": D("147.00"),
    "risk_pct": D("0.4995"),
    "weight": D("0.40"),
    "total_allocation": D("0.4995"),
}
FILL: dict[str, Any] = {
    "position_id": POSITION,
    "pattern": Pattern.SPRING,
    "shares": D(333),
    "price": D("148.50"),
    "stop": D("147.00"),
    "targets": (D(150), D(156), D(159)),
}
METRICS: dict[str, Any] = {
    "realized_pnl": D("3496.50"),
    "r_multiple": D("7.0000"),
    "total_allocation": D("0.4995"),
    "positions": 1,
}

# one of each kind -> SPEC section 7 type on the wire
KINDS: list[tuple[EventData, EventType]] = [
    (CampaignCreated(**ENTRY, symbol="AAPL", trading_range_id=RANGE), EventType.CAMPAIGN_CREATED),
    (EntryApproved(**ENTRY), EventType.CAMPAIGN_UPDATED),
    (
        AllocationRejected(
            signal_id=SIGNAL,
            pattern=Pattern.SPRING,
            code=RejectionCode.DUPLICATE_PATTERN,
            reason="SPRING already taken in this campaign",
        ),
        EventType.ALLOCATION_REJECTED,
    ),
    (
        PortfolioHeatAlert(
            level=HeatAlertLevel.WARNING,
            previous=HeatAlertLevel.NORMAL,
            heat_pct=as_percent("7.0995"),
        ),
        EventType.PORTFOLIO_HEAT_ALERT,
    ),
    (
        TradingStateChanged(
            previous=TradingState.ACTIVE,
            state=TradingState.HALTED,
            reason="equity -1157.50 is at or below zero",
            equity=as_money("-1157.50"),
            by="limit",
        ),
        EventType.TRADING_STATE_CHANGED,
    ),
    (PositionOpened(**FILL), EventType.POSITION_OPENED),
    (EntryFilled(**FILL), EventType.CAMPAIGN_UPDATED),
    (
        StatusChanged(status=CampaignStatus.MARKUP, phase=CampaignPhase.MARKUP, by="operator"),
        EventType.CAMPAIGN_UPDATED,
    ),
    (
        ExitsTriggered(price=as_price("150.00"), stops_moved=(MOVE,), exit_orders=(LEG,)),
        EventType.CAMPAIGN_UPDATED,
    ),
    (StopsTrailed(price=as_price("150.00"), stops_moved=(MOVE,)), EventType.CAMPAIGN_UPDATED),
    (
        ExitExecuted(
            position_id=POSITION,
            pattern=Pattern.SPRING,
            purpose=OrderPurpose.TARGET_1,
            quantity=as_shares(166),
            price=as_price("150.00"),
            realized_pnl=as_money("249.00"),
            open_shares=as_shares(167),
        ),
        EventType.EXIT_EXECUTED,
    ),
    (
        CampaignInvalidated(reason="range failed", exit_orders=(LEG,), cancelled_orders=(LEG,)),
        EventType.CAMPAIGN_INVALIDATED,
    ),
    (
        CampaignQuarantined(reason="revision 4 cannot be saved", cancelled_orders=(LEG,)),
        EventType.CAMPAIGN_UPDATED,
    ),
    (AllPositionsExited(**METRICS), EventType.CAMPAIGN_UPDATED),
    (CampaignCompleted(**METRICS), EventType.CAMPAIGN_COMPLETED),
    (
        OrderCancelRequested(
            client_order_id="AAPL-2024-10-15:SPRING:ENTRY",
            purpose=OrderPurpose.ENTRY,
            unfilled=QuantityValue(Decimal("133")),
            reason="entry unfilled after 3 bar(s) of 1h",
        ),
        EventType.CAMPAIGN_UPDATED,
    ),
    (
        EntryReleased(
            position_id=POSITION,
            pattern=Pattern.SPRING,
            client_order_id="AAPL-2024-10-15:SPRING:ENTRY",
            status=OrderStatus.CANCELLED,
            filled_shares=QuantityValue(Decimal("200")),
            released_shares=QuantityValue(Decimal("133")),
            released_risk=MoneyValue(Decimal("199.50")),
            reason="entry unfilled after 3 bar(s) of 1h",
        ),
        EventType.CAMPAIGN_UPDATED,
    ),
    (
        ExitOrderFailed(
            position_id=POSITION,
            pattern=Pattern.SPRING,
            purpose=OrderPurpose.STOP,
            client_order_id="AAPL-2024-10-15:SPRING:STOP",
            status=OrderStatus.REJECTED,
            unsold=QuantityValue(Decimal("200")),
            reason="trading halted",
            replaced_by="AAPL-2024-10-15:SPRING:STOP:2",
        ),
        EventType.CAMPAIGN_UPDATED,
    ),
    (
        BrokerDifference(
            client_order_id=None,
            quantity=QuantityValue(Decimal("50")),
            description="50 shares of AAPL sold at the broker by hand",
        ),
        EventType.CAMPAIGN_UPDATED,
    ),
    (
        FlatteningRetried(
            trigger="price",
            price=PriceValue(Decimal("146.40")),
            held=QuantityValue(Decimal("333")),
            exit_orders=(
                OrderLeg(
                    client_order_id="AAPL-2024-10-15:SPRING:INVALIDATION:4",
                    quantity=QuantityValue(Decimal("333")),
                ),
            ),
        ),
        EventType.CAMPAIGN_UPDATED,
    ),
]


def _event(data: EventData, version: int = 2, sequence: int = 0) -> CampaignEvent:
    return make_event(
        data,
        campaign_id="AAPL-2024-10-15",
        version=version,
        occurred_at=T0 + timedelta(minutes=1),
        correlation_id="px-3",
        sequence=sequence,
    )


EVENTS = tuple(_event(data, sequence=n) for n, (data, _) in enumerate(KINDS))


def test_every_kind_is_listed_once() -> None:
    (union, _) = get_args(EventData)
    assert {type(data) for data, _ in KINDS} == set(get_args(union))
    assert len(KINDS) == len(get_args(union))


@pytest.mark.parametrize(("data", "wire_type"), KINDS, ids=lambda v: type(v).__name__)
def test_each_kind_goes_out_under_its_spec_type(data: EventData, wire_type: EventType) -> None:
    event = _event(data)
    assert event.type is wire_type
    wire = event_to_json(event)
    assert isinstance(wire["data"], dict)
    assert (wire["type"], wire["data"]["kind"]) == (wire_type.value, type(data).__name__)
    assert list(wire) == [
        "event_id",
        "type",
        "campaign_id",
        "version",
        "occurred_at",
        "correlation_id",
        "data",
    ]
    assert event_from_json(json.loads(json.dumps(wire))) == event


def test_event_ids_are_derived_from_campaign_version_correlation_and_sequence() -> None:
    assert [e.event_id for e in EVENTS[:2]] == [
        "AAPL-2024-10-15:v2:px-3:0",
        "AAPL-2024-10-15:v2:px-3:1",
    ]


def test_events_round_trip_through_the_data_converter() -> None:
    converter = data_converter.payload_converter
    persist = PersistRequest(revision=1, state=Book().state, events=EVENTS)
    payloads = converter.to_payloads([persist, EVENTS])
    back = converter.from_payloads(payloads, [PersistRequest, tuple[CampaignEvent, ...]])
    assert back == [persist, EVENTS]
    assert [type(e.data) for e in back[0].events] == [type(d) for d, _ in KINDS]


def test_a_type_that_does_not_go_with_the_kind_is_refused() -> None:
    wire = event_to_json(_event(EntryApproved(**ENTRY)))
    with pytest.raises(ValueError, match="EntryApproved is a CampaignUpdated"):
        event_from_json(wire | {"type": "CampaignCreated"})


def test_a_price_that_reaches_t1_announces_its_orders_and_stops_as_json() -> None:
    book = Book()
    book.submit(signal(Pattern.SPRING))
    triggered = book.price(tick("150.00", 1)).events
    (wire,) = [event_to_json(e) for e in triggered]
    assert wire["type"] == "CampaignUpdated"
    assert wire["data"] == {
        "kind": "ExitsTriggered",
        "price": "150.00",
        "stops_moved": [{"pattern": "SPRING", "previous_stop": "147.00", "stop": "148.50"}],
        "exit_orders": [{"client_order_id": "AAPL-2024-10-15:SPRING:TARGET_1", "quantity": "166"}],
    }
    assert "exit_orders=AAPL-2024-10-15:SPRING:TARGET_1 166" in summarize(triggered[0])


def test_invalidation_lists_the_exits_and_the_cancelled_unfilled_entries() -> None:
    book = Book(fill_orders=False)
    book.submit(signal(Pattern.SPRING))
    book.submit(signal(Pattern.SOS))
    spring_entry = book.orders[0]
    book.fill(spring_entry)
    outcome = invalidate(book.state, "range failed", T0, "operator:1")
    (wire,) = [event_to_json(e) for e in outcome.events]
    assert wire["type"] == "CampaignInvalidated"
    assert wire["data"] == {
        "kind": "CampaignInvalidated",
        "reason": "range failed",
        "exit_orders": [
            {"client_order_id": "AAPL-2024-10-15:SPRING:INVALIDATION", "quantity": "333"}
        ],
        "cancelled_orders": [{"client_order_id": "AAPL-2024-10-15:SOS:ENTRY", "quantity": "666"}],
    }
    assert outcome.cancellations == ("AAPL-2024-10-15:SOS:ENTRY",)
