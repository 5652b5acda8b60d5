"""Bad prints from the command line (SPEC section 11): ``campaigns prices`` holds a bad print
back and says so, and ``campaigns held``, ``release`` and ``discard`` see and resolve what the
durable intake held."""

from decimal import Decimal
from pathlib import Path

from campaign_engine.db.price_holds import HeldPrices
from campaign_engine.db.price_intake import PriceIntake
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.testing.builders import signal, tick
from tests.e2e.test_cli import CAMPAIGN, campaigns
from tests.support.harness import Stack, eventually, persisted_status


async def test_campaigns_prices_holds_a_bad_print_back(stack: Stack, tmp_path: Path) -> None:
    await stack.client.submit(signal(Pattern.SPRING))  # 148.50, stop 147.00
    await persisted_status(stack, CAMPAIGN, CampaignStatus.ACTIVE)
    prices = tmp_path / "prices.csv"
    prices.write_text(
        "symbol,as_of,price\nAAPL,2099-01-01T00:00:00Z,148.60\nAAPL,2099-01-01T00:01:00Z,0.01\n"
    )
    published = await campaigns(stack, "prices", str(prices))
    assert published.code == 0, published.err
    assert "held as a bad print, not published: AAPL at 2099-01-01T00:01:00+00:00" in (
        published.out
    )

    async def marked() -> bool:
        state = await stack.client.status(CAMPAIGN)
        return state is not None and state.last_price == Decimal("148.60")

    await eventually(marked)
    state = await stack.client.status(CAMPAIGN)
    assert state is not None and state.status is CampaignStatus.ACTIVE


async def test_held_release_and_discard(stack: Stack) -> None:
    intake = PriceIntake(stack.engine)
    await intake.append([tick("148.60", 1), tick("0.01", 2)])
    (hold,) = await HeldPrices(stack.engine).holds()
    listed = await campaigns(stack, "held")
    assert listed.code == 0, listed.err
    assert str(hold.hold_id) in listed.out and "0.01" in listed.out

    discarded = await campaigns(stack, "discard", str(hold.hold_id))
    assert discarded.code == 0, discarded.err
    assert f"discarded price hold {hold.hold_id} (AAPL)" in discarded.out
    again = await campaigns(stack, "release", str(hold.hold_id))
    assert again.code == 1 and "discarded, no longer held" in again.err
    unknown = await campaigns(stack, "release", str(hold.hold_id + 100))
    assert unknown.code == 1 and "no price hold" in unknown.err
    assert "no price update is held" in (await campaigns(stack, "held")).out
    assert "discarded" in (await campaigns(stack, "held", "--all")).out

    await intake.append([tick("60", 3)])
    (second,) = await HeldPrices(stack.engine).holds()
    released = await campaigns(stack, "release", str(second.hold_id))
    assert released.code == 0, released.err
    assert await HeldPrices(stack.engine).holds() == []
