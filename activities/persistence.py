"""Persistence activities: load a campaign, reserve portfolio risk, persist a snapshot."""

from temporalio import activity

from campaign_engine.db.repository import CampaignRepository
from campaign_engine.messages import (
    LOAD_CAMPAIGN,
    PERSIST_CAMPAIGN,
    RESERVE_RISK,
    LoadCampaignRequest,
    LoadedCampaign,
    PersistRequest,
    ReserveRiskRequest,
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
    async def reserve_risk(self, request: ReserveRiskRequest) -> ReserveRiskResult:
        return ReserveRiskResult(admission=await self._repository.reserve(request))

    @activity.defn(name=PERSIST_CAMPAIGN)
    async def persist_campaign(self, request: PersistRequest) -> None:
        await self._repository.save(request)
