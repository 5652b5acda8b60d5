"""What a market-data feed's 1-minute bars mean to a campaign of a coarser timeframe (a `1d`
range): each minute bar is a price the campaign evaluates at once, so a stop or a target is
met on the minute its low or high reaches it (not at the day's close), while an entry's expiry
counts the campaign's own bars in market time (3 bars of `1d` are 3 days of minute bars)."""

from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import OrderPurpose, Pattern
from campaign_engine.testing.builders import Book, bar, signal, trading_range

DAY = 24 * 60  # minutes


def _daily_book(*, fill_orders: bool = True) -> Book:
    rng = trading_range().model_copy(update={"timeframe": "1d"})
    book = Book(state=CampaignState.for_range(rng), fill_orders=fill_orders)
    book.submit(signal(Pattern.SPRING, rng=rng))  # 148.50, stop 147.00
    return book


def test_a_minute_bar_reaching_the_stop_exits_on_that_minute_not_at_the_close() -> None:
    book = _daily_book()
    quiet = book.price(bar("148.60", "148.90", "148.20", "148.70", minutes=61))
    assert quiet.orders == ()
    # An hour into the day a minute's low touches the stop; the minute closes back above it.
    touched = book.price(bar("147.40", "147.50", "146.95", "147.30", minutes=62))
    # The Spring's stop is its range's invalidation level here: the campaign exits whole.
    assert [o.purpose for o in touched.orders] == [OrderPurpose.INVALIDATION]


def test_a_minute_bar_reaching_the_first_target_sells_its_share_then() -> None:
    book = _daily_book()
    spring = book.position(Pattern.SPRING)
    target = spring.targets[0]
    high = f"{target + 1:.2f}"
    reached = book.price(bar("149.00", high, "148.90", "149.10", minutes=90))
    assert [o.purpose for o in reached.orders] == [OrderPurpose.TARGET_1]


def test_an_entry_expires_after_three_days_of_minute_bars_not_three_minutes() -> None:
    book = _daily_book(fill_orders=False)  # the entry order rests
    for minutes in (1, 2, 3, 60, 3 * DAY - 1):
        outcome = book.price(bar("149.00", "149.40", "148.60", "149.20", minutes=minutes))
        assert outcome.cancellations == (), minutes
    expired = book.price(bar("149.00", "149.40", "148.60", "149.20", minutes=3 * DAY))
    assert len(expired.cancellations) == 1
    assert "entry unfilled after 3 bar(s) of 1d" in str(expired.events[0].data)
