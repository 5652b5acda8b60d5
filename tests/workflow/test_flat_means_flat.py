"""Flat means flat, on the real workflow (issue 22): a broker that refuses an invalidated
campaign's exit (as a wash-trade rule does while another campaign's buy on the symbol rests)
has it refused until its attempts run out; the campaign is not abandoned: it shows it waits to
be flat and offers the shares again after the backoff, and once the broker takes the sell it
ends flat. (The wash-trade rule itself, with the exit waiting for the buys in its way, is told
end to end in ``tests/e2e/test_sim_broker.py``.)"""

from decimal import Decimal

from campaign_engine.domain.campaign.flat import awaiting_flat
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.testing.builders import bar, signal
from tests.support.harness import eventually
from tests.workflow.broker_book import refuses
from tests.workflow.conftest import Campaigns

D = Decimal
WASH = "potential wash trade detected. use complex orders"


async def test_an_exit_the_broker_refuses_is_retried_until_flat(campaigns: Campaigns) -> None:
    broker, ledger = campaigns.broker, campaigns.ledger
    plan = await campaigns.client.submit(signal(Pattern.SPRING))  # 333 at 148.50, stop 147.00
    holder = plan.campaign_id

    async def bought() -> bool:
        return broker.position("AAPL") == D(333)

    await eventually(bought)

    # The broker refuses every sell on AAPL; then the holder's range breaks.
    broker.decide_sells = refuses(WASH)
    await campaigns.client.send_price(holder, bar("147.50", "147.60", "146.50", "146.80", 30))

    async def waits_to_be_flat() -> bool:
        state = await campaigns.client.status(holder)
        refused = ledger.kinds(holder).count("ExitOrderFailed") >= 3
        return state is not None and awaiting_flat(state) and refused

    await eventually(waits_to_be_flat)
    assert broker.position("AAPL") == D(333)  # refused: still held

    # The broker takes sells again; the holder's next try (after the backoff, no price
    # needed) sells, and it ends flat.
    broker.decide_sells = None

    async def flat() -> bool:
        state = await campaigns.client.status(holder)
        return (
            state is not None
            and state.status is CampaignStatus.INVALIDATED
            and state.closed_at is not None
            and broker.position("AAPL") == D(0)
        )

    await eventually(flat)
    await campaigns.saved_status(holder, CampaignStatus.INVALIDATED)
    kinds = ledger.kinds(holder)
    assert "FlatteningRetried" in kinds
    assert kinds[-1] == "AllPositionsExited"
