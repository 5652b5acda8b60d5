"""CampaignWorkflow: one durable workflow per campaign, a thin shell over the domain.

The campaign's clock is the market's: a decision happens at its signal's ``generated_at``, a
bar at its ``as_of``, a fill at its ``filled_at``, an operator's command at the campaign's
market time. ``workflow.now()`` (the server's clock) decides nothing, so the same data played
live, replayed next year or backtested gives the same outcome.

Handlers decide (through the pure domain) and commit the outcome; the run loop carries out
each committed outcome in order, one ``carry_out`` activity per change (persist the snapshot
with its events, then cancel and place its orders), and books the fills the broker reports.
Every state change is serialised by one lock, so a price that arrives while an entry waits for
the portfolio is applied after that entry, not beside it.

The whole run state is the ``CampaignState`` (with the revision and the equity of the last
decision): orders still open at the broker are its order records with status OPEN, so a
continued run or one loaded from the database keeps waiting for their fills.
"""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.campaign import (
        Outcome,
        conclude_entry,
        prepare_entry,
    )
    from campaign_engine.domain.entry import Admission, AdmissionRequest
    from campaign_engine.domain.market import EntrySignal, PriceUpdate
    from campaign_engine.domain.plans import AllocationPlan
    from campaign_engine.domain.state import CampaignState
    from campaign_engine.domain.types import MoneyValue
    from campaign_engine.temporal.messages import (
        HOLDING_REPORT,
        ORDER_UPDATE,
        BrokerOrder,
        CampaignWorkflowInput,
        ChangeStatusRequest,
        HoldingReport,
        InvalidateRequest,
        LoadAndReserveRequest,
        LoadCampaignRequest,
    )
    from campaign_engine.workflows import activities
    from campaign_engine.workflows.broker_link import (
        HOLDINGS_RECONCILER,
        POLL_AFTER_CARRY_OUT,
        BrokerLink,
    )
    from campaign_engine.workflows.changes import ChangeQueue, ChangeRefused
    from campaign_engine.workflows.commands import CampaignCommands
    from campaign_engine.workflows.details import UiView
    from campaign_engine.workflows.flat_retries import FlatRetries
    from campaign_engine.workflows.payloads import SignalInbox, parse
    from campaign_engine.workflows.price_inbox import PriceInbox
    from campaign_engine.workflows.quarantine import quarantined


@workflow.defn(name="CampaignWorkflow")
class CampaignWorkflow:
    @workflow.init
    def __init__(self, params: CampaignWorkflowInput) -> None:
        self._params = params
        self._policy = params.policy
        self._state: CampaignState | None = params.state
        self._equity: MoneyValue = params.equity or params.policy.starting_equity
        self._loaded = params.state is not None
        self._resumed = params.state is not None and params.state.exists
        self._load_started = False
        self._lock = asyncio.Lock()
        self._changes = ChangeQueue(params.revision, params.state)
        self._prices = PriceInbox()
        self._signals = SignalInbox()
        self._broker = BrokerLink(
            self._lock,
            lambda: self._state,
            self._commit,
            self._changes,
            longest_poll=timedelta(seconds=params.reconcile_every_seconds),
        )
        self._flat = FlatRetries(self._lock, lambda: self._state, self._commit, self._changes)
        self._commands = CampaignCommands(
            params.campaign_id,
            params.policy,
            self._lock,
            lambda: self._state,
            self._commit,
            self._settled,
            flatten=self._flat.wanted,
        )
        self._ui = UiView()
        self._poll_clock: asyncio.Task[None] | None = None
        self._flat_clock: asyncio.Task[None] | None = None

    # --- run ------------------------------------------------------------------------------

    @workflow.run
    async def run(self, params: CampaignWorkflowInput) -> CampaignState | None:
        # First, once: a run recorded before the holdings reconciler keeps polling its holding
        # when it is replayed (or resumed), as it did when it ran; one recorded before polls
        # waited for the change being carried out keeps the timers it started.
        self._broker.polls_holdings = not workflow.patched(HOLDINGS_RECONCILER)
        self._broker.waits_for_carry_out = workflow.patched(POLL_AFTER_CARRY_OUT)
        await self._load()
        if self._resumed:
            # A campaign that existed before this run (continued, or reloaded after its run
            # ended or failed): the broker may have done things meanwhile.
            await self._reconcile()
        self._poll_clock = asyncio.create_task(self._broker.keep_poll_time())
        self._flat_clock = asyncio.create_task(self._flat.keep_trying())
        while True:
            await self._wait_for_work()
            while not self._idle():
                await self._carry_out()
                await self._broker.book_pushed()
                await self._evaluate_prices()
            self._publish()
            if self._broker.asks() and self._broker.poll.due:
                await self._reconcile()
            if self._finished() or self._holds_no_campaign():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._idle():
                    return self._state
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._idle():
                    workflow.continue_as_new(
                        params.model_copy(
                            update={
                                "state": self._state,
                                "revision": self._changes.revision,
                                "equity": self._equity,
                            }
                        )
                    )

    async def _load(self) -> None:
        """The campaign as persisted, unless the run carries it (continue-as-new) or its first
        entry loads it together with that entry's reservation."""
        if not self._loaded:
            if self._load_started:
                await workflow.wait_condition(lambda: self._loaded)
            else:
                self._load_started = True
                loaded = await activities.load_campaign(
                    LoadCampaignRequest(campaign_id=self._params.campaign_id)
                )
                self._state, self._changes.revision = loaded.state, loaded.revision
                self._changes.carried = loaded.state
                self._loaded = True
                self._resumed = loaded.state is not None and loaded.state.exists
        self._publish()

    async def _wait_for_work(self) -> None:
        """Until there is something to do, or a poll of the broker is due."""
        await workflow.wait_condition(
            lambda: (
                not self._idle()
                or self._finished()
                or self._holds_no_campaign()
                or self._should_continue_as_new()
                or (self._broker.poll.due and self._broker.asks())
            )
        )

    async def _reconcile(self) -> None:
        """Ask the broker how the campaign's orders stand (and its shares, in a run from before
        the holdings reconciler): on start and reload (the pushes of a worker's downtime may be
        late), then now and then, less often while nothing changes, as a backstop for a lost
        push."""
        await self._broker.reconcile(self._awaiting_fills(), settled=not self._changes.queued)

    def _idle(self) -> bool:
        return not self._changes.queued and self._prices.empty and not self._broker.has_pushed

    async def _settled(self) -> None:
        """Until the campaign is loaded and every change before now is carried out, with the
        fills the broker reported for it booked: an operator's command then applies to the
        positions those fills opened, as a price does."""
        await workflow.wait_condition(lambda: self._loaded and not self._changes.busy)

    def _awaiting_fills(self) -> tuple[str, ...]:
        """Orders placed at the broker whose fills are still to come (an order still queued
        in a change is not placed yet)."""
        if self._state is None or self._changes.queued:
            return ()
        return self._state.open_order_ids

    def _finished(self) -> bool:
        state = self._state
        return (
            state is not None
            and state.is_closed
            and state.closed_at is not None
            and self._idle()
            and not self._awaiting_fills()
        )

    def _holds_no_campaign(self) -> bool:
        """Every signal this run decided was refused: nothing to manage. The refusals are in the
        database, so a later signal with the same id (in a new run) gets the same answer."""
        state = self._state
        return self._loaded and (state is None or not state.exists) and self._idle()

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._params.continue_as_new_after_events
        )

    # --- committing and booking ------------------------------------------------------------

    async def _carry_out(self) -> None:
        """Carry out the queued changes; one that can never be carried out quarantines the
        campaign (workflows/quarantine.py), under the lock, so that no handler decides on the
        dropped state meanwhile."""
        try:
            await self._changes.carry_out(self._broker.book)
        except ChangeRefused as refused:
            async with self._lock:
                self._changes.drop_queued()
                self._commit(quarantined(refused, self._changes.revision))

    def _commit(self, outcome: Outcome, *, answering: bool = False) -> None:
        self._state = outcome.state
        self._changes.add(outcome, answering=answering)

    def _publish(self) -> None:
        self._ui.show(self._state, self._equity)

    # --- entries ----------------------------------------------------------------------------

    # Every handler takes its model as the payload came and parses it (workflows/payloads.py):
    # input that does not parse is refused or dropped, never a failing workflow task.

    @workflow.update
    async def submit_signal(self, payload: RawValue) -> AllocationPlan:
        """Decide an entry (SPEC section 3), an ``EntrySignal``, and return its
        AllocationPlan; the same signal id always gets its first decision back."""
        signal = parse(payload, EntrySignal, "submit_signal")
        async with self._lock:
            reserved = await self._load_with(signal)
            entry = prepare_entry(self._state, signal, self._policy)
            admission = None
            request = entry.admission_request
            if request is not None:
                admission = reserved if reserved is not None else await self._reserve(request)
                self._equity = admission.equity
            outcome = conclude_entry(entry, admission, signal.generated_at)
            self._commit(outcome, answering=True)
            assert outcome.plan is not None
            return outcome.plan

    @submit_signal.validator
    def _validate_signal(self, payload: RawValue) -> None:
        signal = parse(payload, EntrySignal, "submit_signal")
        if signal.campaign_id != self._params.campaign_id:
            raise ValueError(
                f"signal belongs to campaign {signal.campaign_id}, not {self._params.campaign_id}"
            )

    async def _load_with(self, signal: EntrySignal) -> Admission | None:
        """Wait until the campaign is loaded. The first entry of a run that has not started
        loading loads it together with this entry's reservation, which it returns."""
        if self._loaded or self._load_started:
            await workflow.wait_condition(lambda: self._loaded)
            return None
        self._load_started = True
        loaded = await activities.load_and_reserve(
            LoadAndReserveRequest(
                campaign_id=self._params.campaign_id, signal=signal, policy=self._policy
            )
        )
        self._state, self._changes.revision = loaded.state, loaded.revision
        self._changes.carried = loaded.state
        self._loaded = True
        return loaded.admission

    async def _reserve(self, request: AdmissionRequest) -> Admission:
        return (await activities.reserve_risk(request)).admission

    # --- the broker's pushes -------------------------------------------------------------------

    @workflow.signal(name=ORDER_UPDATE)
    def order_update(self, payload: RawValue) -> None:
        """What the broker says happened to one of our orders (a ``BrokerOrder``: a fill, a
        cancel...), pushed by the broker's own feed; booked in the run loop in the order
        received."""
        update = self._signals.parse(payload, BrokerOrder, ORDER_UPDATE)
        if update is not None:
            self._broker.push(update)

    @workflow.signal(name=HOLDING_REPORT)
    def holding_report(self, payload: RawValue) -> None:
        """The holdings reconciler found this campaign's shares missing at the broker (a
        ``HoldingReport``); booked in the run loop if still current (see ``BrokerLink``)."""
        report = self._signals.parse(payload, HoldingReport, HOLDING_REPORT)
        if report is not None:
            self._broker.push(report)

    # --- prices and operator commands -------------------------------------------------------

    @workflow.signal
    def price_update(self, payload: RawValue) -> None:
        """Queue a price (a ``PriceUpdate``) for the run loop (see ``PriceInbox``)."""
        update = self._signals.parse(payload, PriceUpdate, "price_update")
        if update is not None:
            self._prices.offer(self._state, update)

    async def _evaluate_prices(self) -> None:
        update = self._prices.take()
        if update is not None:
            await self._commands.evaluate_price(update)

    @workflow.signal
    async def invalidate(self, payload: RawValue) -> None:
        """The orchestrator's or an operator's invalidation (an ``InvalidateRequest``),
        fire-and-forget."""
        request = self._signals.parse(payload, InvalidateRequest, "invalidate")
        if request is None:
            return
        try:
            await self._commands.invalidate(request)
        except ApplicationError as error:
            workflow.logger.warning("invalidation refused: %s", error)

    @workflow.update
    async def invalidate_campaign(self, payload: RawValue) -> CampaignState:
        """Invalidation (an ``InvalidateRequest``) that answers: the INVALIDATED campaign, or
        why it cannot be."""
        request = parse(payload, InvalidateRequest, "invalidate_campaign")
        return await self._commands.invalidate(request)

    @invalidate_campaign.validator
    def _validate_invalidation(self, payload: RawValue) -> None:
        parse(payload, InvalidateRequest, "invalidate_campaign")
        if self._loaded:
            self._commands.check_open()

    @workflow.update
    async def change_status(self, payload: RawValue) -> CampaignState:
        """An operator's status change (a ``ChangeStatusRequest``: ACTIVE -> MARKUP) at the
        current version."""
        return await self._commands.change_status(
            parse(payload, ChangeStatusRequest, "change_status")
        )

    @change_status.validator
    def _validate_change(self, payload: RawValue) -> None:
        request = parse(payload, ChangeStatusRequest, "change_status")
        if self._loaded:
            self._commands.check_version(request)

    @workflow.query
    def get_status(self) -> CampaignState | None:
        return self._state

    @workflow.query
    def dropped_signals(self) -> int:
        """How many signals this run dropped because their input did not parse."""
        return self._signals.dropped
