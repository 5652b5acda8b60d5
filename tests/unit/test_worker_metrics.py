"""Which saved event counts as what on the worker's metrics (runtime/worker_metrics.py),
played through the aggregate as the workflow plays it: decisions by outcome and code, entries,
fills (partial when the order stays open), exits by purpose."""

from decimal import Decimal

from campaign_engine.domain.campaign import apply_fill
from campaign_engine.domain.events import CampaignEvent
from campaign_engine.domain.orders import paper_fill
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.runtime.worker_metrics import count_events
from campaign_engine.testing.builders import Book, as_shares, signal, tick

D = Decimal


def _counted(book: Book, events: list[CampaignEvent]) -> list[tuple[str, dict[str, str]]]:
    return [(c.metric, c.labels) for c in count_events(events, book.state)]


def test_a_spring_approved_filled_in_two_parts_then_invalidated() -> None:
    book = Book(fill_orders=False)
    book.submit(signal(Pattern.SPRING))
    assert _counted(book, book.events) == [
        ("campaign_decisions", {"outcome": "approved", "code": "none"})
    ]
    (entry,) = book.orders
    half = D(entry.quantity) // 2
    first = book.fill(entry, as_shares(half))
    assert _counted(book, list(first.events)) == [
        ("campaign_entries", {"pattern": "SPRING"}),
        ("campaign_fills", {"side": "entry"}),
        ("campaign_partial_fills", {"side": "entry"}),  # the rest may still fill
    ]
    second = paper_fill(entry, entry.created_at).model_copy(
        update={"fill_id": f"{entry.client_order_id}:2", "quantity": D(entry.quantity) - half}
    )
    rest = apply_fill(book.state, second, second.filled_at)
    book.state = rest.state
    assert _counted(book, list(rest.events)) == [("campaign_fills", {"side": "entry"})]

    book.orders.clear()
    stopped = book.price(tick("140.00", 5))  # through the range: the campaign is invalidated
    assert _counted(book, list(stopped.events)) == []  # an order placed is not a fill
    (stop,) = stopped.orders
    sold = book.fill(stop)
    counted = _counted(book, list(sold.events))
    assert ("campaign_exits", {"purpose": "INVALIDATION"}) in counted
    assert ("campaign_fills", {"side": "exit"}) in counted
    assert ("campaign_partial_fills", {"side": "exit"}) not in counted


def test_a_refused_entry_counts_its_code() -> None:
    book = Book()
    book.submit(signal(Pattern.SPRING))
    before = len(book.events)
    book.submit(signal(Pattern.SPRING))  # the same pattern again in the campaign
    assert _counted(book, book.events[before:]) == [
        ("campaign_decisions", {"outcome": "rejected", "code": "DUPLICATE_PATTERN"})
    ]
