"""Replay the histories recorded by the workflow and end-to-end tests with the current
workflow code.

A change to CampaignWorkflow (or to the domain it calls) that would make a running campaign
take a different path on replay fails here, before it can reach a worker with live campaigns.
Record anew after an intended, versioned change:
RECORD_HISTORIES=1 python3 run.py test -m "workflow or e2e"
"""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from campaign_engine.temporal.converter import data_converter
from campaign_engine.temporal.messages import HOLDING_REPORT
from campaign_engine.worker import workflow_runner
from campaign_engine.workflows.broker_link import HOLDINGS_RECONCILER, POLL_AFTER_CARRY_OUT
from campaign_engine.workflows.campaign import CampaignWorkflow

HISTORIES = sorted((Path(__file__).resolve().parent / "histories").glob("*.json"))


def test_histories_are_recorded() -> None:
    assert len(HISTORIES) >= 10, "record them: RECORD_HISTORIES=1 python3 run.py test -m e2e"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=[CampaignWorkflow],
        data_converter=data_converter,
        workflow_runner=workflow_runner(),
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


def _recorded(path: Path) -> tuple[set[str], set[str]]:
    """The patches and the signals a history holds."""
    events = WorkflowHistory.from_json(path.stem, path.read_text()).events
    patches = {
        e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data.decode()
        for e in events
        if e.HasField("marker_recorded_event_attributes")
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
    }
    signals = {
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in events
        if e.HasField("workflow_execution_signaled_event_attributes")
    }
    return patches, signals


def test_runs_of_both_kinds_are_replayed() -> None:
    """Histories recorded before the holdings reconciler (runs polling their holding) and with
    it (patched in, booking a ``holding_report``) are both among those replayed."""
    recorded = [_recorded(path) for path in HISTORIES]
    assert any(not patches for patches, _ in recorded)
    assert any(
        any(HOLDINGS_RECONCILER in patch for patch in patches) and HOLDING_REPORT in signals
        for patches, signals in recorded
    )


def test_runs_before_and_after_polls_waited_for_the_carry_out_are_replayed() -> None:
    """Runs that started a poll's timer while an order was being placed (before the patch) and
    runs that wait for the carry-out's answer (patched in) are both among those replayed."""
    patched = [
        any(POLL_AFTER_CARRY_OUT in patch for patch in patches)
        for patches, _ in (_recorded(path) for path in HISTORIES)
    ]
    assert any(patched)
    assert not all(patched)
