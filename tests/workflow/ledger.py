"""What the workflow tier keeps in memory instead of PostgreSQL: the campaigns' snapshots and
events as ``carry_out`` persisted them, and the portfolio's reservations, admitted by the
domain's own rules (``admit_entry``) against every other campaign's risk.

Like the database, a snapshot is written once per revision (a retried save changes nothing)
and an event once per event id; an admission is stored by signal id, so asking again returns
the first answer.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID

from campaign_engine.domain.campaign.outcome import exposure_of
from campaign_engine.domain.entry import Admission, AdmissionRequest, admit_entry
from campaign_engine.domain.events import CampaignEvent
from campaign_engine.domain.limits import Exposure, PortfolioView
from campaign_engine.domain.money import plus, total
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import MoneyValue
from campaign_engine.temporal.messages import PersistRequest


class SaveRefused(ValueError):
    """A change the ledger will never persist, as a database refuses a value out of range."""


_EQUITY = MoneyValue(Decimal("100000"))


@dataclass
class Ledger:
    starting_equity: MoneyValue = _EQUITY
    snapshots: dict[str, dict[int, CampaignState]] = field(default_factory=dict)
    events: dict[str, list[CampaignEvent]] = field(default_factory=dict)
    admissions: dict[UUID, Admission] = field(default_factory=dict)
    exposures: dict[str, Exposure] = field(default_factory=dict)
    refuse: Callable[[PersistRequest], str | None] = lambda _request: None
    """A test's rule for changes that can never be saved: the reason, or None to save."""

    def load(self, campaign_id: str) -> tuple[CampaignState | None, int]:
        """The last snapshot of a campaign and its revision (None, 0 if never saved)."""
        revisions = self.snapshots.get(campaign_id)
        if not revisions:
            return None, 0
        revision = max(revisions)
        return revisions[revision], revision

    def save(self, request: PersistRequest) -> None:
        reason = self.refuse(request)
        if reason is not None:
            raise SaveRefused(reason)
        campaign_id = request.state.campaign_id
        self.snapshots.setdefault(campaign_id, {}).setdefault(request.revision, request.state)
        recorded = self.events.setdefault(campaign_id, [])
        known = {event.event_id for event in recorded}
        recorded.extend(event for event in request.events if event.event_id not in known)
        if request.state.exists:
            self.exposures[campaign_id] = exposure_of(request.state)

    def reserve(self, request: AdmissionRequest) -> Admission:
        earlier = self.admissions.get(request.signal_id)
        if earlier is not None:
            return earlier
        others = tuple(e for cid, e in self.exposures.items() if cid != request.campaign_id)
        realized = total(
            self.state(cid).realized_pnl for cid in self.snapshots if cid != request.campaign_id
        )
        equity = plus(self.starting_equity, realized, request.realized_pnl)
        view = PortfolioView(equity=equity, exposures=others)
        admission = admit_entry(view, request)
        if admission.approved:
            # Reserved at once, as the database does under its lock, so that the next entry of
            # any campaign sees it before this campaign has saved its change.
            self.exposures[request.campaign_id] = Exposure(
                campaign_id=request.campaign_id,
                symbol=request.symbol,
                open_risk=request.open_risk,
                reserved_risk=plus(request.reserved_risk, admission.risk_amount),
            )
        self.admissions[request.signal_id] = admission
        return admission

    # --- what tests read -------------------------------------------------------------------

    def state(self, campaign_id: str) -> CampaignState:
        state, _ = self.load(campaign_id)
        assert state is not None, f"nothing saved for {campaign_id}"
        return state

    def revision(self, campaign_id: str) -> int:
        return self.load(campaign_id)[1]

    def kinds(self, campaign_id: str) -> list[str]:
        """The kinds of the campaign's events in the order they were persisted."""
        return [event.data.kind for event in self.events.get(campaign_id, [])]
