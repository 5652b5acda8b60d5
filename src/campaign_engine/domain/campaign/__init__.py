"""The campaign aggregate: every command takes a state and an input and returns an
``Outcome``, the new state with the effects to carry out (orders to place or cancel, events to
announce).

The functions are pure and deterministic: the same state and input always give the same
outcome, ids included. That is what lets a Temporal workflow be a thin shell around them.
One module per kind of input: entries, fills, prices, and the operator's commands.
"""

from campaign_engine.domain.campaign.broker_reports import book_report
from campaign_engine.domain.campaign.entries import (
    BatchOutcome,
    PreparedEntry,
    conclude_entry,
    decide_batch,
    decide_entry,
    prepare_entry,
)
from campaign_engine.domain.campaign.fills import apply_fill
from campaign_engine.domain.campaign.flat import awaiting_flat, needs_flattening, retry_flat
from campaign_engine.domain.campaign.holdings import book_holding
from campaign_engine.domain.campaign.operator_commands import change_status, invalidate
from campaign_engine.domain.campaign.outcome import Outcome, exposure_of
from campaign_engine.domain.campaign.prices import is_stale, on_price

__all__ = [
    "BatchOutcome",
    "Outcome",
    "PreparedEntry",
    "apply_fill",
    "awaiting_flat",
    "book_holding",
    "book_report",
    "change_status",
    "conclude_entry",
    "decide_batch",
    "decide_entry",
    "exposure_of",
    "invalidate",
    "is_stale",
    "needs_flattening",
    "on_price",
    "prepare_entry",
    "retry_flat",
]
