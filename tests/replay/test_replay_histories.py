"""Replay the histories recorded by the workflow and end-to-end tests with the current
workflow code.

A change to CampaignWorkflow (or to the domain it calls) that would make a running campaign
take a different path on replay fails here, before it can reach a worker with live campaigns.
Record anew after an intended, versioned change:
RECORD_HISTORIES=1 python3 run.py test -m "workflow or e2e"
(docs/versioning.md says when a change needs a patch, and when histories may be replaced).
"""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from campaign_engine.temporal.converter import data_converter
from campaign_engine.worker import workflow_runner
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
