"""Where a campaign run stands, read from its state: orders still to fill, whether it has
finished or holds no campaign, whether its history is long enough to continue as new. Pure
reads; the run decides what to do about them (see ``CampaignWorkflow.run``)."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.state import CampaignState


def awaiting_fills(state: CampaignState | None, *, queued: bool) -> tuple[str, ...]:
    """Orders placed at the broker whose fills are still to come (an order still queued in a
    change is not placed yet)."""
    if state is None or queued:
        return ()
    return state.open_order_ids


def finished(state: CampaignState | None, *, idle: bool) -> bool:
    """Closed, with nothing left to carry out or to fill: the run may end."""
    return (
        state is not None
        and state.is_closed
        and state.closed_at is not None
        and idle
        and not awaiting_fills(state, queued=False)
    )


def holds_no_campaign(state: CampaignState | None, *, loaded: bool, idle: bool) -> bool:
    """Every signal this run decided was refused: nothing to manage. The refusals are in the
    database, so a later signal with the same id (in a new run) gets the same answer."""
    return loaded and (state is None or not state.exists) and idle


def done(state: CampaignState | None, *, loaded: bool, idle: bool) -> bool:
    """Nothing more for the run to manage: the campaign finished, or there is none."""
    return finished(state, idle=idle) or holds_no_campaign(state, loaded=loaded, idle=idle)


def history_is_long(longest: int) -> bool:
    """Time to continue as new: the server suggests it, or the history passed ``longest``."""
    info = workflow.info()
    return info.is_continue_as_new_suggested() or info.get_current_history_length() > longest
