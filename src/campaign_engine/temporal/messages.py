"""What crosses between the orchestrator, the workflow and its activities.

Plain pydantic models (no I/O): the workflow imports them inside its sandbox, activities and
clients import them outside. Activity names are constants so that workflow code never imports
an activity's implementation (and with it a database driver).
"""

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from campaign_engine.domain.entry import Admission
from campaign_engine.domain.events import CampaignEvent
from campaign_engine.domain.market import EntrySignal
from campaign_engine.domain.orders import (
    BrokerOrder as BrokerOrder,  # re-exported: activities speak it
)
from campaign_engine.domain.orders import Order
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import Equity, Text, Version
from campaign_engine.domain.vocabulary import CampaignStatus

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def workflow_id_for(campaign_id: str) -> str:
    """SPEC section 8: ``campaign-{campaign_id}``."""
    return f"campaign-{campaign_id}"


class RunState(BaseModel):
    """The whole state of a campaign run, as one value: what a continued run starts from."""

    model_config = _FROZEN

    state: CampaignState
    revision: int = Field(ge=0, description="count of changes persisted so far")
    equity: Equity = Field(description="equity at the last decision")


class CampaignWorkflowInput(BaseModel):
    """Everything a campaign run needs. A new run loads its campaign from the database; a
    continued run carries it forward (``carried``) instead."""

    model_config = _FROZEN

    campaign_id: str
    policy: Policy
    carried: RunState | None = None
    continue_as_new_after_events: int = Field(default=2_000, ge=50)
    reconcile_every_seconds: int = Field(
        default=300,
        ge=1,
        description="the longest a campaign holding shares or orders goes without asking its "
        "broker how they stand (it asks sooner after a change)",
    )


Reason = Text


class InvalidateRequest(BaseModel):
    model_config = _FROZEN

    reason: Reason


class ChangeStatusRequest(BaseModel):
    model_config = _FROZEN

    status: CampaignStatus
    version: Version


# --- activities --------------------------------------------------------------------------

LOAD_CAMPAIGN = "load_campaign"
LOAD_AND_RESERVE = "load_and_reserve"
RESERVE_RISK = "reserve_risk"
CARRY_OUT = "carry_out"
CHANGE_REFUSED = "ChangeRefused"
"""The failure type of a change no retry can carry out (activities/failures.py)."""
GET_ORDER = "get_order"
BROKER_HOLDING = "broker_holding"
ORDER_UPDATE = "order_update"  # the campaign signal a broker pushes order changes with
HOLDING_REPORT = "holding_report"  # the campaign signal the holdings reconciler sends


class LoadCampaignRequest(BaseModel):
    model_config = _FROZEN

    campaign_id: str


class LoadedCampaign(BaseModel):
    """What was persisted for a campaign id: its state (None if nothing) and revision."""

    model_config = _FROZEN

    state: CampaignState | None
    revision: int = Field(ge=0)


class LoadAndReserveRequest(BaseModel):
    """A run's first entry: load the campaign and, if the entry gets as far as the portfolio,
    reserve its risk, in one local activity instead of two."""

    model_config = _FROZEN

    campaign_id: str
    signal: EntrySignal
    policy: Policy


class LoadedAndReserved(BaseModel):
    """The persisted campaign, and the portfolio's answer to the entry (None when the entry
    was decided without the portfolio: a known signal id or a rejection by rules 1-8)."""

    model_config = _FROZEN

    state: CampaignState | None
    revision: int = Field(ge=0)
    admission: Admission | None = None


class ReserveRiskResult(BaseModel):
    model_config = _FROZEN

    admission: Admission


class PersistRequest(BaseModel):
    """A snapshot of the campaign at ``revision`` with the events of that change."""

    model_config = _FROZEN

    revision: int = Field(ge=1)
    state: CampaignState
    events: tuple[CampaignEvent, ...] = ()


class CarryOutRequest(PersistRequest):
    """One committed change carried out in one activity: persisted with its events, then its
    orders cancelled and placed (persisting first, so no order exists that the database does
    not know of)."""

    cancellations: tuple[str, ...] = ()
    orders: tuple[Order, ...] = ()


class OrderRequest(BaseModel):
    model_config = _FROZEN

    client_order_id: str


class HoldingRequest(BaseModel):
    model_config = _FROZEN

    campaign_id: str
    symbol: str


class Holding(BaseModel):
    """What the broker's account holds of a symbol that this campaign may count as its own
    (see ``db.holdings``), or None while some order on the symbol is still in flight."""

    model_config = _FROZEN

    available: Decimal | None


class HoldingReport(BaseModel):
    """The holdings reconciler's finding (``activities.holdings_reconciler``): of the shares the
    broker's account holds of ``symbol``, this campaign may count ``available`` as its own,
    fewer than its open shares at ``revision``. The campaign books the difference only if it is
    still at that revision with nothing in flight; otherwise the next round sees the truth."""

    model_config = _FROZEN

    campaign_id: str
    symbol: str
    available: Decimal = Field(ge=0)
    revision: int = Field(ge=0, description="the campaign's persisted revision it was read at")


class CarriedOut(BaseModel):
    """The broker's view of each order placed, in the order of the request."""

    model_config = _FROZEN

    orders: tuple[BrokerOrder, ...] = ()
    cancelled: tuple[BrokerOrder, ...] = ()  # each cancel's answer: how the order stands now
