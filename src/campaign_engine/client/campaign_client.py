"""The orchestrator's and operator's Python client (SPEC section 8)."""

from collections.abc import Iterable
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from campaign_engine.domain.errors import Refusal
from campaign_engine.domain.market import EntrySignal, PriceUpdate
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.priority import prioritize
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import CampaignStatus
from campaign_engine.price_feed.publisher import CampaignDirectory, Gone, PricePublisher, SendFailed
from campaign_engine.price_feed.screen import PrintScreens
from campaign_engine.runtime.settings import TASK_QUEUE, Settings
from campaign_engine.temporal.connection import connect
from campaign_engine.temporal.messages import (
    CampaignWorkflowInput,
    ChangeStatusRequest,
    InvalidateRequest,
    workflow_id_for,
)
from campaign_engine.workflows.details import initial_search_attributes

WORKFLOW = "CampaignWorkflow"
_RUNNING_MEMORY = 100_000


def update_id_for(signal: EntrySignal) -> str:
    """The Temporal update id of a signal's decision: a second request for the same signal
    (a caller retrying after a timeout) joins the first one, in flight or done, instead of
    queueing a second update behind it."""
    return f"submit_signal:{signal.signal_id}"


class CampaignRefused(Exception):
    """The campaign refused the request; ``kind`` says why and nothing was changed."""

    def __init__(self, kind: Refusal, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _refusal(error: WorkflowUpdateFailedError) -> CampaignRefused:
    """The workflow's answer to an update it refused. An ``RPCError`` is never one: the
    server could not take the request (down, overloaded, the workflow stuck), which the API
    answers 503 and a caller retries with the same ids."""
    cause: Any = error.cause
    if isinstance(cause, ApplicationError):
        return CampaignRefused(Refusal.of(cause.type), cause.message)
    message = getattr(cause, "message", None) or str(error)
    return CampaignRefused(Refusal.REFUSED, message)


class CampaignClient:
    """Submit signals, publish prices, read and steer campaigns, typed with the models."""

    def __init__(
        self,
        client: Client,
        *,
        policy: Policy | None = None,
        task_queue: str = TASK_QUEUE,
        continue_as_new_after_events: int = 2_000,
        reconcile_every_seconds: int = 300,
    ) -> None:
        self.temporal = client
        self.policy = policy or Policy()
        self.task_queue = task_queue
        self.continue_as_new_after_events = continue_as_new_after_events
        self.reconcile_every_seconds = reconcile_every_seconds
        self._running: set[str] = set()  # campaign ids whose workflow we have seen running

    @classmethod
    async def connect(cls, settings: Settings) -> "CampaignClient":
        return cls(
            await connect(settings),
            policy=settings.policy,
            task_queue=settings.task_queue,
            continue_as_new_after_events=settings.continue_as_new_after_events,
            reconcile_every_seconds=settings.reconcile_every_seconds,
        )

    def _start(self, signal: EntrySignal) -> WithStartWorkflowOperation[Any, Any]:
        campaign_id, symbol, rng = signal.campaign_id, signal.symbol, signal.trading_range
        return WithStartWorkflowOperation(
            WORKFLOW,
            CampaignWorkflowInput(
                campaign_id=campaign_id,
                policy=self.policy,
                continue_as_new_after_events=self.continue_as_new_after_events,
                reconcile_every_seconds=self.reconcile_every_seconds,
            ),
            id=workflow_id_for(campaign_id),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=initial_search_attributes(symbol),
            # The line the Temporal UI shows for the workflow.
            static_summary=(
                f"{symbol} {rng.timeframe} campaign {campaign_id} · creek {rng.creek} · "
                f"ice {rng.ice} · jump {rng.jump}"
            ),
        )

    async def submit(self, signal: EntrySignal) -> AllocationPlan:
        """Decide one entry signal and return its AllocationPlan, approved or not.

        The campaign's workflow is started if it is not running (update-with-start). A
        campaign this client has already reached gets a plain update, which costs the server
        less; if its workflow has ended meanwhile, the update-with-start follows.
        """
        if signal.campaign_id in self._running:
            handle = self.temporal.get_workflow_handle(workflow_id_for(signal.campaign_id))
            try:
                plan: AllocationPlan = await handle.execute_update(
                    "submit_signal", signal, id=update_id_for(signal), result_type=AllocationPlan
                )
            except WorkflowUpdateFailedError as error:
                raise _refusal(error) from error
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise  # Temporal could not take it (down, overloaded): not a refusal
                self._running.discard(signal.campaign_id)
            else:
                return plan
        try:
            plan = await self.temporal.execute_update_with_start_workflow(
                "submit_signal",
                signal,
                start_workflow_operation=self._start(signal),
                id=update_id_for(signal),
                result_type=AllocationPlan,
            )
        except WorkflowUpdateFailedError as error:
            raise _refusal(error) from error
        if len(self._running) > _RUNNING_MEMORY:
            self._running.clear()
        self._running.add(signal.campaign_id)
        return plan

    async def submit_batch(self, signals: Iterable[EntrySignal]) -> list[AllocationPlan]:
        """Decide competing signals in FR28 priority order, one after the other, so that the
        best ones get the risk budget first."""
        return [await self.submit(signal) for signal in prioritize(signals)]

    async def status(self, campaign_id: str) -> CampaignState | None:
        handle = self.temporal.get_workflow_handle(workflow_id_for(campaign_id))
        state: CampaignState | None = await handle.query(
            "get_status",
            result_type=CampaignState | None,  # type: ignore[arg-type]
        )
        return state

    async def invalidate(self, campaign_id: str, reason: str) -> CampaignState:
        return await self._update(
            campaign_id, "invalidate_campaign", InvalidateRequest(reason=reason)
        )

    async def change_status(
        self, campaign_id: str, status: CampaignStatus, version: int
    ) -> CampaignState:
        request = ChangeStatusRequest(status=status, version=version)
        return await self._update(campaign_id, "change_status", request)

    async def _update(self, campaign_id: str, name: str, request: Any) -> CampaignState:
        handle = self.temporal.get_workflow_handle(workflow_id_for(campaign_id))
        try:
            state: CampaignState = await handle.execute_update(
                name, request, result_type=CampaignState
            )
        except WorkflowUpdateFailedError as error:
            raise _refusal(error) from error
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            raise await self._why_not_running(campaign_id) from error
        return state

    async def _why_not_running(self, campaign_id: str) -> CampaignRefused:
        """A campaign whose workflow has ended is final (or never existed)."""
        try:
            state = await self.status(campaign_id)
        except RPCError:
            state = None
        if state is None or not state.exists:
            return CampaignRefused(Refusal.NO_CAMPAIGN, f"there is no campaign {campaign_id}")
        return CampaignRefused(
            Refusal.CAMPAIGN_CLOSED, f"campaign {campaign_id} is already {state.status.value}"
        )

    async def send_price(self, campaign_id: str, update: PriceUpdate) -> None:
        """One price update to one campaign. Publishers coalesce before calling this."""
        handle = self.temporal.get_workflow_handle(workflow_id_for(campaign_id))
        await handle.signal("price_update", update)

    async def deliver_price(self, campaign_id: str, update: PriceUpdate) -> None:
        """``send_price`` in the publisher's terms: an ended campaign is ``Gone``, any other
        failure ``SendFailed`` (the publisher keeps the bar and merges it into the next)."""
        try:
            await self.send_price(campaign_id, update)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise Gone(campaign_id) from error
            raise SendFailed(f"{campaign_id}: {error}") from error
        except RuntimeError as error:  # how temporalio reports a server it cannot connect to
            raise SendFailed(f"{campaign_id}: {error}") from error

    def publisher(self, directory: CampaignDirectory, **options: Any) -> PricePublisher:
        """A price publisher sending through this client; its ``publish`` screens bad prints
        with the policy's band unless ``screen`` says otherwise."""
        options.setdefault("screen", PrintScreens(self.policy.bad_print_band_pct))
        return PricePublisher(self.deliver_price, directory, **options)
