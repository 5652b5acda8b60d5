"""CampaignWorkflow: one durable workflow per campaign, a thin shell over the domain.

The campaign's clock is the market's: a decision happens at its signal's ``generated_at``, a
bar at its ``as_of``, a fill at its ``filled_at``; ``workflow.now()`` decides nothing, so the
same data played live, replayed next year or backtested gives the same outcome.

Handlers decide (through the pure domain) and commit the outcome under one lock, held here
only: the helpers (``BrokerLink``, ``CampaignCommands``, ``FlatRetries``, ``quarantined``) take
state and return outcomes. The run loop carries out each committed change in order (one
``carry_out`` activity: persist the snapshot with its events, then cancel and place its orders)
and books the fills the broker reports. The whole run state is one ``RunState`` carried into a
continued run; its orders still OPEN are asked about first (``BrokerLink.resumed``).
"""

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.campaign import Outcome
    from campaign_engine.domain.entry import Admission
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
        RunState,
    )
    from campaign_engine.workflows import activities
    from campaign_engine.workflows.broker_link import BrokerLink
    from campaign_engine.workflows.changes import ChangeQueue, ChangeRefused
    from campaign_engine.workflows.commands import CampaignCommands
    from campaign_engine.workflows.details import UiView
    from campaign_engine.workflows.entries import check_campaign, decide_entry
    from campaign_engine.workflows.flat_retries import FlatRetries, wants_flat
    from campaign_engine.workflows.loading import load
    from campaign_engine.workflows.payloads import SignalInbox, parse
    from campaign_engine.workflows.price_inbox import PriceInbox
    from campaign_engine.workflows.quarantine import quarantined
    from campaign_engine.workflows.run_checks import awaiting_fills, done, history_is_long


@workflow.defn(name="CampaignWorkflow")
class CampaignWorkflow:
    @workflow.init
    def __init__(self, params: CampaignWorkflowInput) -> None:
        self._params = params
        self._policy = params.policy
        self._state: CampaignState | None = None
        self._equity: MoneyValue = params.policy.starting_equity
        self._loaded = False
        self._loading = False
        self._lock = asyncio.Lock()
        self._changes = ChangeQueue(0, None)
        self._prices = PriceInbox()
        self._signals = SignalInbox()
        self._broker = BrokerLink(timedelta(seconds=params.reconcile_every_seconds))
        self._flat = FlatRetries()
        self._commands = CampaignCommands(params.campaign_id, params.policy)
        self._ui = UiView()
        self._clocks: list[asyncio.Task[None]] = []
        if params.carried is not None:
            self._begin(params.carried.state, params.carried.revision)
            self._equity = params.carried.equity

    # --- run ------------------------------------------------------------------------------

    @workflow.run
    async def run(self, params: CampaignWorkflowInput) -> CampaignState | None:
        await self._load()
        self._ui.show(self._state, self._equity)
        self._clocks = [
            asyncio.create_task(self._broker.keep_poll_time(self._asks)),
            asyncio.create_task(self._keep_flattening()),
        ]
        while True:
            await workflow.wait_condition(self._has_work)
            while not self._idle():
                await self._carry_out()
                await self._book_pushed()
                await self._evaluate_prices()
            self._ui.show(self._state, self._equity)
            if self._due():
                await self._reconcile()
            if self._done():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._idle():
                    return self._state
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._idle():
                    assert self._state is not None  # a run without a campaign ends instead
                    revision, equity = self._changes.revision, self._equity
                    carried = RunState(state=self._state, revision=revision, equity=equity)
                    workflow.continue_as_new(params.model_copy(update={"carried": carried}))

    async def _load(self, signal: EntrySignal | None = None) -> Admission | None:
        """The one way a run gets its campaign, unless it carries it (continue-as-new): as
        persisted, loaded by whichever asks first, the run or its first entry (``signal``); an
        entry loads it together with its reservation, which it gets back. Any other waits."""
        if self._loaded or self._loading:
            await workflow.wait_condition(lambda: self._loaded)
            return None
        self._loading = True
        loaded = await load(self._params.campaign_id, self._policy, signal)
        self._begin(loaded.state, loaded.revision)
        return loaded.admission

    def _begin(self, state: CampaignState | None, revision: int) -> None:
        """The run's campaign, however it came: a campaign that existed before this run asks
        the broker first how its open orders stand."""
        self._state = state
        self._changes.revision, self._changes.carried = revision, state
        self._loaded = True
        self._broker.resumed(state)

    def _has_work(self) -> bool:
        """Something to carry out, the run to end or continue as new, or a broker poll due."""
        return not self._idle() or self._done() or self._should_continue_as_new() or self._due()

    def _due(self) -> bool:
        return self._broker.poll.due and self._asks()

    def _busy(self) -> bool:
        """A change is queued or carried out, or a handler holds the lock."""
        return self._changes.busy or self._lock.locked()

    def _asks(self) -> bool:
        return self._broker.asks(self._state, busy=self._busy())

    async def _reconcile(self) -> None:
        """Ask the broker how the campaign's open orders stand and book it: first in a resumed
        run (a worker's downtime may delay pushes), then as a backoff-paced backstop."""
        for client_order_id in awaiting_fills(self._state, queued=self._changes.queued):
            await self._book(await activities.get_order(client_order_id))
        self._broker.poll.polled()

    async def _keep_flattening(self) -> None:
        """Retry an ended campaign's unsold shares after a growing backoff (``FlatRetries``)."""
        while True:
            await self._flat.next_try(lambda: wants_flat(self._state, busy=self._busy()))
            async with self._lock:
                self._commit(self._flat.retry(self._state, busy=self._changes.busy))

    def _idle(self) -> bool:
        return not self._changes.queued and self._prices.empty and not self._broker.has_pushed

    def _done(self) -> bool:
        return done(self._state, loaded=self._loaded, idle=self._idle())

    def _should_continue_as_new(self) -> bool:
        return history_is_long(self._params.continue_as_new_after_events)

    # --- committing and booking ------------------------------------------------------------

    async def _carry_out(self) -> None:
        """Carry out the queued changes; one that never can quarantines the campaign, under the
        lock, so that no handler decides on the dropped state meanwhile (quarantine.py)."""
        try:
            await self._changes.carry_out(self._book)
        except ChangeRefused as refused:
            async with self._lock:
                self._changes.drop_queued()
                self._commit(quarantined(refused, self._changes.revision))

    async def _book(self, report: BrokerOrder) -> None:
        """Book a broker's answer about one order (its fills, each once, and how it ended)."""
        async with self._lock:
            assert self._state is not None  # a run with no campaign has placed no order
            self._commit(*self._broker.booked(self._state, report))

    async def _book_pushed(self) -> None:
        """Book what the broker pushed, in the order it came."""
        while (pushed := self._broker.take()) is not None:
            async with self._lock:
                revision, busy = self._changes.revision, self._changes.busy
                booked = self._broker.on_pushed(self._state, pushed, revision=revision, busy=busy)
                self._commit(*booked)

    def _commit(self, *outcomes: Outcome | None, answering: bool = False) -> None:
        """Take each outcome's state as the campaign's, and queue its change to carry out."""
        for outcome in outcomes:
            if outcome is not None:
                self._state = outcome.state
                self._changes.add(outcome, answering=answering)

    # --- entries, the broker's pushes, prices and operator commands ------------------------

    # Handlers parse their raw payload (payloads.py): bad input is refused or dropped, never a
    # failing workflow task.
    @workflow.update
    async def submit_signal(self, payload: RawValue) -> AllocationPlan:
        """Decide an entry (SPEC section 3), an ``EntrySignal``, and return its
        AllocationPlan; the same signal id always gets its first decision back."""
        signal = parse(payload, EntrySignal, "submit_signal")
        async with self._lock:
            reserved = await self._load(signal)
            outcome, admission = await decide_entry(self._state, signal, self._policy, reserved)
            if admission is not None:
                self._equity = admission.equity
            self._commit(outcome, answering=True)
            assert outcome.plan is not None
            return outcome.plan

    @submit_signal.validator
    def _validate_signal(self, payload: RawValue) -> None:
        check_campaign(parse(payload, EntrySignal, "submit_signal"), self._params.campaign_id)

    @workflow.signal(name=ORDER_UPDATE)
    def order_update(self, payload: RawValue) -> None:
        """The broker's feed on one of our orders (a ``BrokerOrder``: a fill, a cancel...),
        booked in the run loop in the order received."""
        update = self._signals.parse(payload, BrokerOrder, ORDER_UPDATE)
        if update is not None:
            self._broker.push(update)

    @workflow.signal(name=HOLDING_REPORT)
    def holding_report(self, payload: RawValue) -> None:
        """The reconciler found our shares missing at the broker (a ``HoldingReport``)."""
        report = self._signals.parse(payload, HoldingReport, HOLDING_REPORT)
        if report is not None:
            self._broker.push(report)

    @workflow.signal
    def price_update(self, payload: RawValue) -> None:
        """Queue a price (a ``PriceUpdate``) for the run loop (see ``PriceInbox``)."""
        update = self._signals.parse(payload, PriceUpdate, "price_update")
        if update is not None:
            self._prices.offer(self._state, update)

    async def _evaluate_prices(self) -> None:
        with self._prices.taken() as update:
            if update is not None:
                async with self._lock:
                    self._commit(self._commands.evaluate_price(self._state, update))

    @workflow.signal
    async def invalidate(self, payload: RawValue) -> None:
        """An ``InvalidateRequest`` from the orchestrator or an operator, fire-and-forget."""
        request = self._signals.parse(payload, InvalidateRequest, "invalidate")
        if request is None:
            return
        try:
            await self._decide(lambda state: self._commands.invalidate(state, request))
        except ApplicationError as error:
            workflow.logger.warning("invalidation refused: %s", error)

    @workflow.update
    async def invalidate_campaign(self, payload: RawValue) -> CampaignState:
        """An ``InvalidateRequest`` answered: the INVALIDATED campaign, or why it cannot be."""
        request = parse(payload, InvalidateRequest, "invalidate_campaign")
        return await self._decide(lambda state: self._commands.invalidate(state, request))

    @invalidate_campaign.validator
    def _validate_invalidation(self, payload: RawValue) -> None:
        parse(payload, InvalidateRequest, "invalidate_campaign")
        if self._loaded:
            self._commands.check_open(self._state)

    @workflow.update
    async def change_status(self, payload: RawValue) -> CampaignState:
        """An operator's ``ChangeStatusRequest`` (ACTIVE -> MARKUP) at the current version."""
        request = parse(payload, ChangeStatusRequest, "change_status")
        return await self._decide(lambda state: self._commands.change_status(state, request))

    @change_status.validator
    def _validate_change(self, payload: RawValue) -> None:
        request = parse(payload, ChangeStatusRequest, "change_status")
        if self._loaded:
            self._commands.check_version(self._state, request)

    async def _decide(self, decide: Callable[[CampaignState | None], Outcome]) -> CampaignState:
        """An operator's command, once the campaign is loaded and every change before it is
        carried out (its fills booked): it applies to the positions they opened."""
        await workflow.wait_condition(lambda: self._loaded and not self._changes.busy)
        async with self._lock:
            outcome = decide(self._state)
            self._commit(outcome, answering=True)
            return outcome.state

    @workflow.query
    def get_status(self) -> CampaignState | None:
        return self._state

    @workflow.query
    def dropped_signals(self) -> int:
        """How many signals this run dropped because their input did not parse."""
        return self._signals.dropped
