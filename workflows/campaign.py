"""CampaignWorkflow: one durable workflow per campaign, a thin shell over the domain.

Handlers decide (through the pure domain) and commit the outcome; the run loop carries out
each committed outcome in order: persist the snapshot and its events, place and cancel orders,
book the fills. Every state change is serialised by one lock, so a price that arrives while an
entry waits for the portfolio is applied after that entry, not beside it.

Runs started since the ``batched-effects`` patch carry out a change in one activity (persist,
cancel, place), leave announcing to the outbox relay (the events are in the audit trail the
same transaction wrote), load a run's campaign together with its first entry's reservation,
and publish search attributes and details once the queued changes are carried out. Runs
recorded before it keep one activity per effect, so they replay and finish as they began.
"""

import asyncio
from collections import deque
from datetime import timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.campaign import (
        Outcome,
        apply_fill,
        change_status,
        conclude_entry,
        invalidate,
        is_stale,
        on_price,
        prepare_entry,
    )
    from campaign_engine.domain.entry import Admission, AdmissionRequest
    from campaign_engine.domain.errors import CampaignError
    from campaign_engine.domain.market import EntrySignal, PriceUpdate
    from campaign_engine.domain.orders import Order
    from campaign_engine.domain.plans import AllocationPlan
    from campaign_engine.domain.prices import merge
    from campaign_engine.domain.state import CampaignState
    from campaign_engine.domain.vocabulary import OrderStatus
    from campaign_engine.messages import (
        CANCEL_ORDER,
        CARRY_OUT,
        GET_ORDER,
        LOAD_AND_RESERVE,
        LOAD_CAMPAIGN,
        NOTIFY,
        PERSIST_CAMPAIGN,
        RESERVE_RISK,
        SUBMIT_ORDER,
        BrokerOrder,
        CampaignWorkflowInput,
        CarriedOut,
        CarryOutRequest,
        ChangeStatusRequest,
        InvalidateRequest,
        LoadAndReserveRequest,
        LoadCampaignRequest,
        LoadedAndReserved,
        LoadedCampaign,
        NotifyRequest,
        OrderRequest,
        PersistRequest,
        ReserveRiskResult,
    )
    from campaign_engine.workflows.details import render_details, search_attributes

# Persistence and orders are idempotent, so they are retried until they succeed: a change
# is never lost, whatever the database or broker does meanwhile.
_FOREVER = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)
_NOTIFY_RETRY = RetryPolicy(maximum_attempts=3)
_IO_TIMEOUT = timedelta(seconds=10)  # also how soon work of a crashed worker is retried
_LOCAL_TIMEOUT = timedelta(seconds=10)
_FILL_POLL = timedelta(seconds=5)
BATCHED_EFFECTS = "batched-effects"


@workflow.defn(name="CampaignWorkflow")
class CampaignWorkflow:
    @workflow.init
    def __init__(self, params: CampaignWorkflowInput) -> None:
        self._params = params
        self._policy = params.policy
        self._state: CampaignState | None = params.state
        self._revision = params.revision
        self._equity: Decimal = params.equity or params.policy.starting_equity
        self._loaded = params.state is not None
        self._lock = asyncio.Lock()
        # Each committed change, and whether a caller waits on an update for it.
        self._pending: deque[tuple[Outcome, bool]] = deque()
        self._awaiting_fills: set[str] = set()
        self._prices: PriceUpdate | None = None
        self._notifications: list[asyncio.Task[object]] = []
        self._load_started = False
        self._published: tuple[object, ...] | None = None

    @property
    def _batched(self) -> bool:
        """Whether this run carries out effects batched (see the module docstring)."""
        return workflow.patched(BATCHED_EFFECTS)

    # --- run ------------------------------------------------------------------------------

    @workflow.run
    async def run(self, params: CampaignWorkflowInput) -> CampaignState | None:
        if not self._loaded:
            if self._load_started:  # an entry loads the campaign with its reservation
                await workflow.wait_condition(lambda: self._loaded)
            else:
                self._load_started = True
                loaded = await workflow.execute_local_activity(
                    LOAD_CAMPAIGN,
                    LoadCampaignRequest(campaign_id=params.campaign_id),
                    result_type=LoadedCampaign,
                    start_to_close_timeout=_LOCAL_TIMEOUT,
                    retry_policy=_FOREVER,
                )
                self._state, self._revision = loaded.state, loaded.revision
                self._loaded = True
            self._publish()
        while True:
            idle = self._state is None or not self._state.exists
            woke = await self._wait_for_work(params, idle)
            while self._pending or self._prices is not None:
                while self._pending:
                    await self._carry_out(*self._pending.popleft())
                await self._evaluate_prices()
            if self._batched:
                self._publish()
            if self._awaiting_fills and not self._pending:
                await self._poll_fills()
            if self._finished() or (idle and not woke):
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._pending and self._prices is None:
                    await self._drain_notifications()
                    return self._state
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._pending and self._prices is None:
                    await self._drain_notifications()
                    workflow.continue_as_new(
                        params.model_copy(
                            update={
                                "state": self._state,
                                "revision": self._revision,
                                "equity": self._equity,
                            }
                        )
                    )

    async def _wait_for_work(self, params: CampaignWorkflowInput, idle: bool) -> bool:
        """Until there is something to do; a run without a campaign gives up after a while."""
        ready = lambda: (  # noqa: E731
            bool(self._pending)
            or self._prices is not None
            or self._finished()
            or self._should_continue_as_new()
        )
        timeout: timedelta | None = None
        if self._awaiting_fills:
            timeout = _FILL_POLL
        elif idle:
            timeout = timedelta(seconds=params.idle_timeout_seconds)
        try:
            await workflow.wait_condition(ready, timeout=timeout)
        except TimeoutError:
            return False
        return True

    def _finished(self) -> bool:
        state = self._state
        return (
            state is not None
            and state.is_closed
            and state.closed_at is not None
            and not self._pending
            and not self._awaiting_fills
        )

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._params.continue_as_new_after_events
        )

    # --- carrying out outcomes ------------------------------------------------------------

    def _commit(self, outcome: Outcome, *, answering: bool = False) -> None:
        self._state = outcome.state
        if outcome.changed:
            self._pending.append((outcome, answering))
            if not self._batched:
                self._publish()

    async def _carry_out(self, outcome: Outcome, answering: bool) -> None:
        self._revision += 1
        if self._batched:
            request = CarryOutRequest(
                revision=self._revision,
                state=outcome.state,
                events=outcome.events,
                cancellations=outcome.cancellations,
                orders=outcome.orders,
            )
            # A local activity runs inside the workflow task: no activity task, no further
            # workflow task, a fraction of the server's work. But the task (and with it an
            # update's answer) completes only once its local activities have, so a change an
            # update answered for is carried out by a regular activity after the answer.
            carried: CarriedOut
            if answering:
                carried = await workflow.execute_activity(
                    CARRY_OUT,
                    request,
                    result_type=CarriedOut,
                    start_to_close_timeout=_IO_TIMEOUT,
                    retry_policy=_FOREVER,
                )
            else:
                carried = await workflow.execute_local_activity(
                    CARRY_OUT,
                    request,
                    result_type=CarriedOut,
                    start_to_close_timeout=_LOCAL_TIMEOUT,
                    retry_policy=_FOREVER,
                )
            for broker_order in carried.orders:
                await self._book(broker_order)
            return
        # The state as of this change, with the events of this change: the read model moves
        # through the same versions as the campaign, never ahead of its audit trail.
        await workflow.execute_activity(
            PERSIST_CAMPAIGN,
            PersistRequest(revision=self._revision, state=outcome.state, events=outcome.events),
            start_to_close_timeout=_IO_TIMEOUT,
            retry_policy=_FOREVER,
        )
        for client_order_id in outcome.cancellations:
            await self._broker(CANCEL_ORDER, OrderRequest(client_order_id=client_order_id))
        for order in outcome.orders:
            await self._place(order)
        if outcome.events:
            self._notifications.append(
                workflow.start_activity(
                    NOTIFY,
                    NotifyRequest(events=outcome.events),
                    start_to_close_timeout=_IO_TIMEOUT,
                    retry_policy=_NOTIFY_RETRY,
                )
            )
            self._notifications = [t for t in self._notifications if not t.done()]

    async def _broker(self, name: str, request: OrderRequest | Order) -> BrokerOrder:
        result: BrokerOrder = await workflow.execute_activity(
            name,
            request,
            result_type=BrokerOrder,
            start_to_close_timeout=_IO_TIMEOUT,
            retry_policy=_FOREVER,
        )
        return result

    async def _place(self, order: Order) -> None:
        broker_order = await self._broker(SUBMIT_ORDER, order)
        await self._book(broker_order)

    async def _book(self, broker_order: BrokerOrder) -> None:
        """Positions open and close on fills: book every fill not booked yet."""
        async with self._lock:
            for fill in broker_order.fills:
                assert self._state is not None
                self._commit(apply_fill(self._state, fill, workflow.now()))
        if broker_order.status is OrderStatus.OPEN:
            self._awaiting_fills.add(broker_order.client_order_id)
        else:
            self._awaiting_fills.discard(broker_order.client_order_id)

    async def _poll_fills(self) -> None:
        for client_order_id in sorted(self._awaiting_fills):
            await self._book(
                await self._broker(GET_ORDER, OrderRequest(client_order_id=client_order_id))
            )

    async def _drain_notifications(self) -> None:
        for task in self._notifications:
            try:
                await task
            except Exception as error:
                workflow.logger.warning("notification failed: %s", error)
        self._notifications.clear()

    def _publish(self) -> None:
        """Keep the Temporal UI's view of the campaign current."""
        if self._state is None:
            return
        attributes = search_attributes(self._state, self._equity)
        workflow.set_current_details(render_details(self._state, self._equity))
        if self._batched:
            # Each upsert is a command and an event in history: only send a change.
            seen = tuple((a.key.name, a.value) for a in attributes)
            if seen == self._published:
                return
            self._published = seen
        workflow.upsert_search_attributes(attributes)

    # --- entries ----------------------------------------------------------------------------

    @workflow.update
    async def submit_signal(self, signal: EntrySignal) -> AllocationPlan:
        """Decide an entry (SPEC section 3) and return its AllocationPlan; the same signal id
        always gets its first decision back."""
        async with self._lock:
            reserved = await self._load_with(signal)
            entry = prepare_entry(self._state, signal, self._policy)
            admission = None
            request = entry.admission_request
            if request is not None:
                admission = reserved if reserved is not None else await self._reserve(request)
                self._equity = admission.equity
            outcome = conclude_entry(entry, admission, workflow.now())
            self._commit(outcome, answering=True)
            assert outcome.plan is not None
            return outcome.plan

    @submit_signal.validator
    def _validate_signal(self, signal: EntrySignal) -> None:
        # A signal that does not parse never reaches here: the converter refuses it first.
        if signal.campaign_id != self._params.campaign_id:
            raise ValueError(
                f"signal belongs to campaign {signal.campaign_id}, not {self._params.campaign_id}"
            )

    async def _load_with(self, signal: EntrySignal) -> Admission | None:
        """Wait until the campaign is loaded. The first entry of a run that has not started
        loading loads it together with this entry's reservation, which it returns."""
        if self._loaded or self._load_started or not self._batched:
            await workflow.wait_condition(lambda: self._loaded)
            return None
        self._load_started = True
        loaded: LoadedAndReserved = await workflow.execute_local_activity(
            LOAD_AND_RESERVE,
            LoadAndReserveRequest(
                campaign_id=self._params.campaign_id, signal=signal, policy=self._policy
            ),
            result_type=LoadedAndReserved,
            start_to_close_timeout=_LOCAL_TIMEOUT,
            retry_policy=_FOREVER,
        )
        self._state, self._revision = loaded.state, loaded.revision
        self._loaded = True
        return loaded.admission

    async def _reserve(self, request: AdmissionRequest) -> Admission:
        result: ReserveRiskResult = await workflow.execute_local_activity(
            RESERVE_RISK,
            request,
            result_type=ReserveRiskResult,
            start_to_close_timeout=_LOCAL_TIMEOUT,
            retry_policy=_FOREVER,
        )
        return result.admission

    # --- prices and operator commands -------------------------------------------------------

    @workflow.signal
    def price_update(self, update: PriceUpdate) -> None:
        """Queue a price; the run loop evaluates it once the effects before it (orders placed,
        fills booked) are carried out. Prices that queue up meanwhile merge into one bar, so a
        backlog never loses a high or a low."""
        state = self._state
        if state is not None and update.symbol != state.symbol:
            workflow.logger.warning(
                "price for %s refused: campaign trades %s", update.symbol, state.symbol
            )
            return
        if state is not None and is_stale(state, update):
            return
        try:
            self._prices = merge(self._prices, update)
        except ValueError as error:  # a symbol that differs from the queued bar's
            workflow.logger.warning("price update refused: %s", error)

    async def _evaluate_prices(self) -> None:
        update, self._prices = self._prices, None
        if update is None:
            return
        async with self._lock:
            if self._state is None:
                return
            try:
                outcome = on_price(
                    self._state, update, self._policy, workflow.now(), self._correlation(update)
                )
            except CampaignError as error:  # e.g. another symbol: ignore, loudly
                workflow.logger.warning("price update refused: %s", error)
                return
            self._commit(outcome)

    @staticmethod
    def _correlation(update: PriceUpdate) -> str:
        suffix = f"#{update.sequence}" if update.sequence is not None else ""
        return f"price:{update.symbol}@{update.as_of.isoformat()}{suffix}"

    @workflow.signal
    async def invalidate(self, request: InvalidateRequest) -> None:
        """The orchestrator's or an operator's invalidation, fire-and-forget."""
        try:
            await self._invalidate(request)
        except ApplicationError as error:
            workflow.logger.warning("invalidation refused: %s", error)

    @workflow.update
    async def invalidate_campaign(self, request: InvalidateRequest) -> CampaignState:
        """Invalidation that answers: the INVALIDATED campaign, or why it cannot be."""
        return await self._invalidate(request)

    @invalidate_campaign.validator
    def _validate_invalidation(self, request: InvalidateRequest) -> None:
        if self._loaded:
            self._refuse_unless_open()

    async def _invalidate(self, request: InvalidateRequest) -> CampaignState:
        async with self._lock:
            await workflow.wait_condition(lambda: self._loaded)
            state = self._refuse_unless_open()
            correlation = f"invalidate:{workflow.uuid4()}"
            try:
                self._commit(
                    invalidate(state, request.reason, workflow.now(), correlation),
                    answering=True,
                )
            except CampaignError as error:
                raise _refusal(error) from None
            assert self._state is not None
            return self._state

    @workflow.update
    async def change_status(self, request: ChangeStatusRequest) -> CampaignState:
        """An operator's status change (ACTIVE -> MARKUP) at the current version."""
        async with self._lock:
            await workflow.wait_condition(lambda: self._loaded)
            state = self._refuse_unless_open()
            correlation = f"operator:{workflow.uuid4()}"
            try:
                self._commit(
                    change_status(
                        state, request.status, request.version, workflow.now(), correlation
                    ),
                    answering=True,
                )
            except CampaignError as error:
                raise _refusal(error) from None
            assert self._state is not None
            return self._state

    @change_status.validator
    def _validate_change(self, request: ChangeStatusRequest) -> None:
        if not self._loaded:
            return
        state = self._refuse_unless_open()
        if state.version != request.version:
            raise _refusal_of(
                "VersionConflict", f"campaign is at version {state.version}, not {request.version}"
            )

    def _refuse_unless_open(self) -> CampaignState:
        state = self._state
        if state is None or not state.exists:
            raise _refusal_of("NoCampaign", f"there is no campaign {self._params.campaign_id}")
        if state.is_closed:
            raise _refusal_of(
                "CampaignClosed", f"campaign {state.campaign_id} is already {state.status.value}"
            )
        return state

    @workflow.query
    def get_status(self) -> CampaignState | None:
        return self._state


def _refusal_of(kind: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


def _refusal(error: CampaignError) -> ApplicationError:
    return _refusal_of(type(error).__name__, str(error))
