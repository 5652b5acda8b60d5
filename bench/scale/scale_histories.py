"""Retries and timeouts of the scale benchmark's campaigns, counted in their histories (an
activity's attempts past the first, local activities' markers, workflow tasks timed out or
failed with their causes), and a campaign's chain of runs across continue-as-new."""

import asyncio
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType, TimeoutType, WorkflowTaskFailedCause
from temporalio.client import Client

from bench.record import Figure
from campaign_engine.temporal.messages import workflow_id_for


@dataclass
class Retries:
    """Activity attempts past the first and timeouts, counted in closed runs' histories."""

    activities: int = 0
    retried: int = 0
    activity_timeouts: int = 0
    local_activities: int = 0
    local_retried: int = 0
    workflow_tasks: int = 0
    workflow_task_timeouts: int = 0
    workflow_task_failures: int = 0
    timeout_kinds: Counter[str] = field(default_factory=Counter)

    @property
    def retried_or_timed_out(self) -> int:
        """Activities retried (local ones too) or timed out for good: 0 is the goal."""
        return self.retried + self.local_retried + self.activity_timeouts

    def figure(self) -> Figure:
        troubles = self.retried_or_timed_out
        return Figure(
            "activities retried or timed out (goal 0)", troubles, "activities", None, None
        )

    def __str__(self) -> str:
        return (
            f"{self.activities} activities ({self.retried} retried, {self.activity_timeouts} "
            f"timed out for good), {self.local_activities} local activities "
            f"({self.local_retried} retried), {self.workflow_tasks} workflow tasks completed, "
            f"{self.workflow_task_timeouts} timed out {dict(self.timeout_kinds)}, "
            f"{self.workflow_task_failures} failed"
        )


async def count_retries(temporal: Client, campaign_ids: Iterable[str]) -> Retries:
    found = Retries()
    limit = asyncio.Semaphore(16)

    async def one(campaign_id: str) -> None:
        async with limit:
            history = await temporal.get_workflow_handle(
                workflow_id_for(campaign_id)
            ).fetch_history()
        for event in history.events:
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                found.activities += 1
                found.retried += event.activity_task_started_event_attributes.attempt - 1
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
                found.activity_timeouts += 1
            elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
                details = event.marker_recorded_event_attributes.details
                if "data" in details:
                    data = json.loads(details["data"].payloads[0].data)
                    found.local_activities += 1
                    found.local_retried += int(data.get("attempt", 1)) - 1
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                found.workflow_tasks += 1
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                found.workflow_task_timeouts += 1
                timeout = event.workflow_task_timed_out_event_attributes.timeout_type
                found.timeout_kinds[TimeoutType.Name(timeout)] += 1
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                found.workflow_task_failures += 1
                failed = event.workflow_task_failed_event_attributes
                cause = WorkflowTaskFailedCause.Name(failed.cause)
                found.timeout_kinds[f"{cause}: {failed.failure.message[:80]}"] += 1

    await asyncio.gather(*(one(c) for c in campaign_ids))
    return found


@dataclass
class Run:
    run_id: str
    events: int
    signals: int
    continued: bool


async def run_chain(temporal: Client, workflow_id: str) -> list[Run]:
    """Every run of the workflow, first to last, each with its history's length and the price
    signals it received."""
    handle = temporal.get_workflow_handle(workflow_id)
    run_id: str | None = (
        await handle.describe()
    ).raw_description.workflow_execution_info.first_run_id
    runs = []
    while run_id:
        history = await temporal.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        signals = sum(
            e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
            and e.workflow_execution_signaled_event_attributes.signal_name == "price_update"
            for e in history.events
        )
        last = history.events[-1]
        continued = last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        runs.append(Run(run_id, len(history.events), signals, continued))
        attributes = last.workflow_execution_continued_as_new_event_attributes
        run_id = attributes.new_execution_run_id if continued else None
    return runs
