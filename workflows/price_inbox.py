"""Prices waiting for a campaign run to evaluate them, merged into one bar.

A price signal is queued, not evaluated at once: the run evaluates it once the effects before it
(orders placed, fills booked) are carried out. Prices that queue up meanwhile merge into one
bar, so a backlog never loses a high or a low. A price the campaign cannot use is refused
with a warning in the worker's log, never silently.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.campaign import is_stale
    from campaign_engine.domain.market import PriceUpdate
    from campaign_engine.domain.prices import merge
    from campaign_engine.domain.state import CampaignState


class PriceInbox:
    def __init__(self) -> None:
        self._bar: PriceUpdate | None = None

    @property
    def empty(self) -> bool:
        return self._bar is None

    def offer(self, state: CampaignState | None, update: PriceUpdate) -> None:
        """Queue ``update`` unless it is for another symbol or older than what the campaign
        has taken already."""
        if state is not None and update.symbol != state.symbol:
            workflow.logger.warning(
                "price for %s refused: campaign trades %s", update.symbol, state.symbol
            )
            return
        if state is not None and is_stale(state, update):
            return
        try:
            self._bar = merge(self._bar, update)
        except ValueError as error:  # a symbol that differs from the queued bar's
            workflow.logger.warning("price update refused: %s", error)

    def take(self) -> PriceUpdate | None:
        """The bar queued so far, leaving the inbox empty."""
        bar, self._bar = self._bar, None
        return bar
