"""Bad prints (SPEC section 11): the screen's rule, table by table, and the backtest's use of it."""

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaign_engine.backtest.bar_screen import screen_timeline
from campaign_engine.backtest.engine import run_backtest
from campaign_engine.backtest.sources import files_timeline, merge_in_time
from campaign_engine.backtest.timeline import Bars, Timeline
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.print_screen import (
    PrintScreen,
    Verdict,
    discard,
    release,
    screen_update,
)
from campaign_engine.domain.types import PriceValue
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.testing.builders import bar, signal, tick

D = Decimal
BAND = D(25)


def _screen(reference: str | None, held: PriceUpdate | None = None) -> PrintScreen:
    return PrintScreen(None if reference is None else PriceValue(D(reference)), held)


def _play(updates: list[PriceUpdate], band: Decimal = BAND) -> list[tuple[Verdict, list[str]]]:
    """Each update's verdict and the prices taken then."""
    screen, seen = PrintScreen(), []
    for update in updates:
        screened = screen_update(screen, update, band)
        screen = screened.screen
        seen.append((screened.verdict, [format(u.last, "f") for u in screened.taken]))
    return seen


@pytest.mark.parametrize(
    ("reference", "price", "verdict"),
    [
        (None, "0.01", Verdict.PASSED),  # the first update has nothing to compare with
        ("100", "100", Verdict.PASSED),
        ("100", "125", Verdict.PASSED),  # exactly 25% away: within the band
        ("100", "75", Verdict.PASSED),
        ("100", "125.00000001", Verdict.HELD),
        ("100", "74.99999999", Verdict.HELD),
        ("148.50", "0.01", Verdict.HELD),
        ("100", "1000000000", Verdict.HELD),
    ],
)
def test_a_tick_within_the_band_passes_and_one_beyond_is_held(
    reference: str | None, price: str, verdict: Verdict
) -> None:
    update = tick(price, 1)
    screened = screen_update(_screen(reference), update, BAND)
    assert screened.verdict is verdict
    if verdict is Verdict.PASSED:
        assert screened.taken == (update,)
        assert screened.screen == PrintScreen(update.last)
    else:
        assert screened.taken == ()
        assert screened.screen == PrintScreen(PriceValue(D(reference or 0)), update)


@pytest.mark.parametrize(
    ("bar_prices", "verdict"),
    [
        (("100", "110", "95", "105"), Verdict.PASSED),
        (("100", "125", "75", "100"), Verdict.PASSED),  # both extremes on the edges
        (("100", "101", "0.01", "100"), Verdict.HELD),  # a bad low, a normal close
        (("100", "200", "99", "100"), Verdict.HELD),  # a bad high
    ],
)
def test_a_bar_is_judged_by_its_low_and_high(
    bar_prices: tuple[str, str, str, str], verdict: Verdict
) -> None:
    o, h, low, c = bar_prices
    assert screen_update(_screen("100"), bar(o, h, low, c, 1), BAND).verdict is verdict


def test_the_next_update_near_the_held_one_confirms_it_both_taken_in_order() -> None:
    assert _play([tick("100", 0), tick("60", 1), tick("58", 2), tick("59", 3)]) == [
        (Verdict.PASSED, ["100"]),
        (Verdict.HELD, []),
        (Verdict.CONFIRMED, ["60", "58"]),
        (Verdict.PASSED, ["59"]),  # 58 is the reference now
    ]


def test_the_next_update_near_the_last_accepted_price_refutes_it() -> None:
    screen = screen_update(_screen("148.50"), tick("0.01", 1), BAND).screen
    screened = screen_update(screen, tick("148.40", 2), BAND)
    assert screened.verdict is Verdict.REFUTED
    assert screened.discarded == tick("0.01", 1)
    assert screened.taken == (tick("148.40", 2),)
    assert screened.screen == _screen("148.40")


def test_refutation_is_judged_before_confirmation() -> None:
    # 115 is within 25% of both 100 (the last price) and 126 (the held one): refuted, so a
    # print is acted on only once the market has left the old price too.
    assert _play([tick("100", 0), tick("126", 1), tick("115", 2)])[2] == (Verdict.REFUTED, ["115"])
    # A bar whose low was one bad print and whose close is back: any normal price refutes it.
    held = bar("100", "101", "0.01", "100.9", 1)
    screen = screen_update(_screen("100"), held, BAND).screen
    assert screen_update(screen, tick("100.9", 2), BAND).verdict is Verdict.REFUTED


def test_a_second_print_far_from_both_replaces_the_held_one() -> None:
    first, second = tick("0.01", 1), tick("1000000000", 2)
    screen = screen_update(_screen("100"), first, BAND).screen
    screened = screen_update(screen, second, BAND)
    assert screened.verdict is Verdict.REPLACED
    assert screened.discarded == first
    assert screened.taken == ()
    assert screened.screen == _screen("100", second)  # judged against the same reference
    assert screen_update(screened.screen, tick("99", 3), BAND).verdict is Verdict.REFUTED


def test_a_band_of_zero_turns_the_screen_off() -> None:
    assert _play([tick("100", 0), tick("0.01", 1)], band=D(0)) == [
        (Verdict.PASSED, ["100"]),
        (Verdict.PASSED, ["0.01"]),
    ]


def test_an_operator_releases_or_discards_the_held_update() -> None:
    held = tick("60", 1)
    screen = _screen("100", held)
    assert release(screen) == (_screen("60"), held)
    assert discard(screen) == (_screen("100"), held)
    assert release(_screen("100")) == (_screen("100"), None)


prices = st.decimals(min_value=D("1"), max_value=D("100000"), places=2)


@given(first=prices, moves=st.lists(st.decimals(min_value=D("-0.2"), max_value=D("0.2"))))
def test_a_stream_without_jumps_beyond_the_band_passes_unchanged(
    first: Decimal, moves: list[Decimal]
) -> None:
    updates, price = [tick(str(first), 0)], first
    for n, move in enumerate(moves, start=1):
        price = max(D("1"), (price * (1 + move)).quantize(D("0.01")))
        updates.append(tick(str(price), n))
    played = _play(updates)
    assert {verdict for verdict, _ in played} == {Verdict.PASSED}
    assert [price for _, taken in played for price in taken] == [
        format(u.last, "f") for u in updates
    ]


@given(first=prices, rest=st.lists(prices))
def test_whatever_comes_each_update_is_taken_once_at_most_and_in_order(
    first: Decimal, rest: list[Decimal]
) -> None:
    stream = [tick(str(p), n) for n, p in enumerate([first, *rest])]
    screen, taken = PrintScreen(), list[PriceUpdate]()
    for update in stream:
        screened = screen_update(screen, update, BAND)
        screen = screened.screen
        taken.extend(screened.taken)
    times = [u.as_of for u in taken]
    assert times == sorted(set(times))  # none twice, none out of order
    assert taken[0] == stream[0]


# --- the backtest applies the same screen ----------------------------------------------------


def _timeline(*updates: PriceUpdate) -> Timeline:
    entry = signal(Pattern.SPRING)  # entry 148.50, stop 147.00
    return Timeline(tuple(merge_in_time([entry], list(updates))), "bad prints")


def test_a_backtest_drops_a_refuted_print_and_the_campaign_stays_open() -> None:
    updates = [tick("148.60", 1), tick("0.01", 2), tick("148.70", 3)]
    run = run_backtest(_timeline(*updates))
    (state,) = run.campaigns
    assert state.status is CampaignStatus.ACTIVE
    assert run.bad_prints == (updates[1],)
    assert state.realized_pnl == 0
    unscreened = run_backtest(_timeline(*updates), Policy(bad_print_band_pct=D(0)))
    (stopped,) = unscreened.campaigns  # stopped out near 0
    assert stopped.status is CampaignStatus.INVALIDATED
    assert stopped.realized_pnl < -40_000  # against about 500 of planned risk


def test_a_backtest_takes_a_confirmed_print_at_its_own_time() -> None:
    updates = [tick("100", 0, "MSFT"), tick("60", 1, "MSFT"), tick("59", 2, "MSFT")]
    screened = screen_timeline(_timeline(*updates), BAND)
    assert screened.dropped == ()
    assert screened.timeline.bars_of("MSFT") == updates
    unconfirmed = screen_timeline(_timeline(*updates[:2]), BAND)
    assert unconfirmed.dropped == (updates[1],)
    assert unconfirmed.timeline.bars_of("MSFT") == updates[:1]


def test_bars_read_from_files_are_screened_as_the_same_updates_would_be(tmp_path: Path) -> None:
    entry = signal(Pattern.SPRING)
    signals = tmp_path / "signals.json"
    signals.write_text(f"[{entry.model_dump_json()}]")
    csv = tmp_path / "bars.csv"
    csv.write_text(
        "symbol,as_of,open,high,low,close\n"
        "AAPL,2024-10-15T14:31:00Z,148.50,148.70,148.40,148.60\n"
        "AAPL,2024-10-15T14:32:00Z,148.60,148.60,0.01,148.55\n"  # a bad low
        "AAPL,2024-10-15T14:33:00Z,148.55,148.80,148.50,148.70\n"
        "MSFT,2024-10-15T14:31:00Z,400,401,399,400\n"
        "MSFT,2024-10-15T14:32:00Z,300,301,290,295\n"  # a crash the next bar confirms
        "MSFT,2024-10-15T14:33:00Z,295,296,280,281\n"
        "MSFT,2024-10-15T14:34:00Z,281,800,281,790\n"  # never confirmed: the file ends
    )
    read = files_timeline(str(signals), [str(csv)])
    from_rows = screen_timeline(read, BAND)
    as_updates = screen_timeline(_timeline(*(u for s in read.steps for u in _bars(s))), BAND)
    assert [(u.symbol, u.as_of.minute) for u in from_rows.dropped] == [
        ("AAPL", 32),
        ("MSFT", 34),
    ]
    assert from_rows.dropped == as_updates.dropped
    assert from_rows.timeline.rows_by_symbol is not None
    assert [r[1].minute for r in from_rows.timeline.rows_by_symbol["MSFT"]] == [31, 32, 33]
    run = run_backtest(read)
    assert run.bad_prints == from_rows.dropped
    assert run.campaigns[0].status is CampaignStatus.ACTIVE


def _bars(step: object) -> list[PriceUpdate]:
    return list(step.updates) if isinstance(step, Bars) else []


def test_a_symbols_first_bar_is_screened_against_the_signal_given_before_it() -> None:
    # entry 148.50 at T0, then the symbol's very first price is the bad one
    updates = [tick("0.01", 1), tick("148.70", 2)]
    run = run_backtest(_timeline(*updates))
    assert run.bad_prints == (updates[0],)
    assert run.campaigns[0].status is CampaignStatus.ACTIVE
    # a bar before the signal is the first reference instead: the signal seeds nothing
    early = tick("100", -1)
    assert screen_timeline(_timeline(early, tick("130", 1)), BAND).dropped == (tick("130", 1),)
