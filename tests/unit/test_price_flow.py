"""SPEC section 9: prices coalesce into bars that never lose a high or a low."""

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_engine.domain.bar_coalescing import merge, merge_all
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.price_feed.publisher import Gone, OpenCampaign, PricePublisher, SendFailed
from campaign_engine.testing.builders import T0, tick

D = Decimal

prices = st.integers(min_value=10_000, max_value=20_000).map(lambda c: D(c) / 100)


@settings(max_examples=200, deadline=None)
@given(st.lists(prices, min_size=1, max_size=60))
def test_a_merged_bar_keeps_first_open_extremes_and_last_close(values: list[Decimal]) -> None:
    updates = [tick(str(v), i) for i, v in enumerate(values)]
    bar = merge_all(updates)
    assert bar is not None
    assert (bar.bar_open, bar.bar_high, bar.bar_low, bar.last) == (
        values[0],
        max(values),
        min(values),
        values[-1],
    )
    assert bar.as_of == updates[-1].as_of


def test_a_late_update_widens_the_bar_but_keeps_the_newest_close() -> None:
    bar = merge(merge(None, tick("150", 2)), tick("140", 1))
    assert (bar.bar_low, bar.last, bar.as_of) == (D(140), D(150), tick("150", 2).as_of)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Directory:
    def __init__(self, campaigns: Sequence[OpenCampaign]) -> None:
        self.campaigns = list(campaigns)

    async def open_campaigns(self, symbol: str) -> Sequence[OpenCampaign]:
        return [c for c in self.campaigns if c.campaign_id.startswith(symbol)]


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, PriceUpdate]] = []
        self.failing: set[str] = set()
        self.gone: set[str] = set()

    async def __call__(self, campaign_id: str, update: PriceUpdate) -> None:
        if campaign_id in self.gone:
            raise Gone(campaign_id)
        if campaign_id in self.failing:
            raise SendFailed(campaign_id)
        self.sent.append((campaign_id, update))

    def to(self, campaign_id: str) -> list[PriceUpdate]:
        return [u for c, u in self.sent if c == campaign_id]


def _campaign(name: str, created: datetime = T0) -> OpenCampaign:
    return OpenCampaign(f"AAPL-{name}", created)


async def test_a_flood_reaches_each_campaign_as_a_few_bars_with_every_extreme() -> None:
    clock, sender = Clock(), Recorder()
    campaigns = [_campaign(str(i)) for i in range(3)]
    publisher = PricePublisher(sender, Directory(campaigns), clock=clock)
    raw = []
    for i in range(1000):  # 1,000 updates in 2 seconds
        clock.now = i * 0.002
        price = D(150) + D((i * 37) % 100 - 50) / 10 + (D(-9) if i == 333 else D(0))
        update = tick(str(price), 0).model_copy(
            update={"as_of": T0 + timedelta(milliseconds=2 * i + 1)}
        )
        raw.append(update)
        await publisher.publish(update)
    await publisher.flush()
    for campaign in campaigns:
        bars = sender.to(campaign.campaign_id)
        assert len(bars) <= 6  # about 2 a second, whatever the flood
        assert min(b.bar_low for b in bars) == min(u.last for u in raw) == D("138.1")
        assert max(b.bar_high for b in bars) == max(u.last for u in raw)
        assert bars[-1].last == raw[-1].last
    assert publisher.updates_received == 1000


async def test_a_failed_send_is_made_up_by_the_next_bar() -> None:
    clock, sender = Clock(), Recorder()
    campaign = _campaign("x")
    publisher = PricePublisher(sender, Directory([campaign]), clock=clock)
    sender.failing.add(campaign.campaign_id)
    await publisher.publish(tick("140.00", 1))  # the stop-crossing low, lost in transit
    sender.failing.clear()
    clock.now = 1.0
    await publisher.publish(tick("151.00", 2))
    (bar,) = sender.to(campaign.campaign_id)
    assert (bar.bar_low, bar.last) == (D("140.00"), D("151.00"))


async def test_a_new_campaign_gets_the_prices_since_it_opened_and_gone_ones_are_dropped() -> None:
    clock, sender = Clock(), Recorder()
    directory = Directory([_campaign("old")])
    publisher = PricePublisher(sender, directory, clock=clock)
    await publisher.publish(tick("149.00", 1))
    clock.now = 1.0
    await publisher.publish(tick("147.50", 3))
    directory.campaigns.append(_campaign("new", created=T0 + timedelta(minutes=2)))
    sender.gone.add("AAPL-old")
    clock.now = 2.0
    await publisher.publish(tick("150.50", 5))
    (catch_up,) = sender.to("AAPL-new")
    assert (catch_up.bar_low, catch_up.last) == (D("147.50"), D("150.50"))  # not 149 (before)
    clock.now = 3.0
    await publisher.publish(tick("151.00", 6))
    assert len(sender.to("AAPL-old")) == 2  # the first two bars, then it was gone


class SlowFirstSend(Recorder):
    """The first send is slow (a busy server): a later bar must not overtake it."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.calls = 0

    async def __call__(self, campaign_id: str, update: PriceUpdate) -> None:
        self.calls += 1
        if self.calls == 1:
            await self.release.wait()
        await super().__call__(campaign_id, update)


async def test_bars_of_a_symbol_reach_a_campaign_in_order_when_flushes_overlap() -> None:
    clock, sender = Clock(), SlowFirstSend()
    campaign = _campaign("x")
    publisher = PricePublisher(sender, Directory([campaign]), clock=clock)
    first = asyncio.create_task(publisher.publish(tick("140.00", 1)))  # the low, held up
    for _ in range(3):
        await asyncio.sleep(0)
    assert sender.sent == [] and not first.done()
    clock.now = 1.0
    second = asyncio.create_task(publisher.publish(tick("151.00", 2)))  # flushes at once
    for _ in range(3):
        await asyncio.sleep(0)
    sender.release.set()
    await asyncio.wait_for(asyncio.gather(first, second), 5)
    bars = sender.to(campaign.campaign_id)
    # A campaign drops a bar older than one it has: the 140 low must arrive first.
    assert [b.last for b in bars] == [D("140.00"), D("151.00")]


async def test_a_campaign_the_directory_lists_late_gets_the_last_bar_without_a_later_one() -> None:
    clock, sender = Clock(), Recorder()
    directory = Directory([])
    publisher = PricePublisher(sender, directory, clock=clock)
    await publisher.publish(tick("149.00", 1))  # nobody listed yet: kept, not lost
    directory.campaigns.append(_campaign("late"))
    assert await publisher.flush() == 0  # nothing new pending: a plain flush sends nothing
    assert await publisher.flush(catch_up=True) == 1  # what the publisher does every second
    (bar,) = sender.to("AAPL-late")
    assert bar.last == D("149.00")
    assert await publisher.flush(catch_up=True) == 0  # had it already


async def test_an_announced_campaign_gets_the_bars_after_its_signal_at_once() -> None:
    clock, sender = Clock(), Recorder()
    publisher = PricePublisher(sender, Directory([]), clock=clock)
    await publisher.publish(tick("149.00", 1))
    clock.now = 1.0
    await publisher.publish(tick("148.00", 3))
    opened = OpenCampaign("AAPL-new", opened_at=T0 + timedelta(minutes=2))
    assert await publisher.opened("AAPL", opened) == 1
    (bar,) = sender.to("AAPL-new")
    assert (bar.bar_low, bar.last) == (D("148.00"), D("148.00"))  # market time, not 149


async def test_an_update_older_than_a_bar_sent_is_counted_and_refused() -> None:
    clock, sender = Clock(), Recorder()
    publisher = PricePublisher(sender, Directory([_campaign("x")]), clock=clock)
    assert await publisher.publish(tick("150.00", 5)) is True
    clock.now = 1.0
    assert await publisher.publish(tick("140.00", 3)) is False
    assert publisher.updates_too_old == 1
    assert [b.last for b in sender.to("AAPL-x")] == [D("150.00")]


async def test_bars_are_kept_by_count_whatever_their_spacing_in_market_time() -> None:
    clock, sender = Clock(), Recorder()
    publisher = PricePublisher(sender, Directory([]), clock=clock, retention=3)
    for day in range(5):  # daily bars: a retention by time would keep one
        clock.now = float(day)
        await publisher.publish(tick(f"15{day}.00", day * 24 * 60))
    opened = OpenCampaign("AAPL-d", opened_at=T0)
    await publisher.opened("AAPL", opened)
    (bar,) = sender.to("AAPL-d")
    assert (bar.bar_open, bar.last) == (D("152.00"), D("154.00"))  # the last three days


class Market:
    """A market listener that notes each bar, and what the campaigns had been sent by then."""

    def __init__(self, sender: Recorder, *, failing: bool = False) -> None:
        self.sender = sender
        self.failing = failing
        self.bars: list[tuple[PriceUpdate, int]] = []

    async def on_bar(self, bar: PriceUpdate) -> None:
        self.bars.append((bar, len(self.sender.sent)))
        if self.failing:
            raise RuntimeError("the exchange is down")


async def test_each_new_bar_reaches_the_market_once_before_the_campaigns() -> None:
    clock, sender = Clock(), Recorder()
    market = Market(sender)
    directory = Directory([_campaign("x")])
    publisher = PricePublisher(sender, directory, clock=clock, listeners=[market])
    await publisher.publish(tick("149.00", 1))
    await publisher.publish(tick("148.00", 2))  # within the interval: merged into the next bar
    clock.now = 1.0
    await publisher.publish(tick("150.00", 3))
    directory.campaigns.append(_campaign("late"))
    await publisher.flush(catch_up=True)  # a catch-up sends old bars: the market had them
    assert [(b.bar_low, b.last, sent_before) for b, sent_before in market.bars] == [
        (D("149.00"), D("149.00"), 0),
        (D("148.00"), D("150.00"), 1),  # the campaign had only the first bar then
    ]
    assert len(sender.to("AAPL-x")) == 2 and len(sender.to("AAPL-late")) == 1


async def test_a_failing_market_listener_does_not_hold_up_the_campaigns() -> None:
    clock, sender = Clock(), Recorder()
    market = Market(sender, failing=True)
    publisher = PricePublisher(sender, Directory([_campaign("x")]), clock=clock, listeners=[market])
    await publisher.publish(tick("149.00", 1))
    assert len(market.bars) == 1
    assert [b.last for b in sender.to("AAPL-x")] == [D("149.00")]
