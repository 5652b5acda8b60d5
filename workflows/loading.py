"""How a new campaign run reads its campaign from the database: alone (``load_campaign``), or,
when the run's first entry asks first, together with that entry's reservation at the portfolio
(``load_and_reserve``), one local activity instead of two."""

from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.entry import Admission
    from campaign_engine.domain.market import EntrySignal
    from campaign_engine.domain.policy import Policy
    from campaign_engine.domain.state import CampaignState
    from campaign_engine.temporal.messages import LoadAndReserveRequest, LoadCampaignRequest
    from campaign_engine.workflows import activities


@dataclass(frozen=True)
class Loaded:
    state: CampaignState | None
    revision: int
    admission: Admission | None
    """The entry's reservation, when an entry loaded the campaign and got to the portfolio."""


async def load(campaign_id: str, policy: Policy, signal: EntrySignal | None) -> Loaded:
    if signal is None:
        loaded = await activities.load_campaign(LoadCampaignRequest(campaign_id=campaign_id))
        return Loaded(loaded.state, loaded.revision, None)
    reserved = await activities.load_and_reserve(
        LoadAndReserveRequest(campaign_id=campaign_id, signal=signal, policy=policy)
    )
    return Loaded(reserved.state, reserved.revision, reserved.admission)
