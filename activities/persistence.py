"""Persistence activities: load a campaign, reserve portfolio risk (snapshots are persisted
by ``carry_out``, with the orders of the same change)."""

from temporalio import activity

from campaign_engine.db.repository import CampaignRepository
from campaign_engine.domain.campaign import prepare_entry
from campaign_engine.domain.entry import AdmissionRequest
from campaign_engine.temporal.messages import (
    LOAD_AND_RESERVE,
    LOAD_CAMPAIGN,
    RESERVE_RISK,
    LoadAndReserveRequest,
    LoadCampaignRequest,
    LoadedAndReserved,
    LoadedCampaign,
    ReserveRiskResult,
)


class PersistenceActivities:
    def __init__(self, repository: CampaignRepository) -> None:
        self._repository = repository

    @activity.defn(name=LOAD_CAMPAIGN)
    async def load_campaign(self, request: LoadCampaignRequest) -> LoadedCampaign:
        state, revision = await self._repository.load_state(request.campaign_id)
        return LoadedCampaign(state=state, revision=revision)

    @activity.defn(name=RESERVE_RISK)
    async def reserve_risk(self, request: AdmissionRequest) -> ReserveRiskResult:
        return ReserveRiskResult(admission=await self._repository.reserve(request))

    @activity.defn(name=LOAD_AND_RESERVE)
    async def load_and_reserve(self, request: LoadAndReserveRequest) -> LoadedAndReserved:
        """The workflow prepares the entry again from the same state with the same pure step,
        so it reaches the same admission request and takes this admission for it."""
        state, revision = await self._repository.load_state(request.campaign_id)
        asked = prepare_entry(state, request.signal, request.policy).admission_request
        admission = await self._repository.reserve(asked) if asked is not None else None
        return LoadedAndReserved(state=state, revision=revision, admission=admission)
