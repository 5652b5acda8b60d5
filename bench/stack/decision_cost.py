"""What a campaign decision costs beside its raw anchors: latency lines with their goals, CPU per
sample of each process group, and the history an entry pair leaves."""

import statistics
from collections import Counter
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.micro.cpu import CPU_GROUPS, cpu_by_process, spent
from bench.record import Anchor, Figure

T = TypeVar("T")
RAW_START, RAW_UPDATE, PAIR = "raw update-with-start", "raw update", "first + later entry (a pair)"
# The raw pair's history: started, a workflow task (3 events), an update accepted and completed;
# then another workflow task and update.
RAW_PAIR_EVENTS = 11


def percentile(samples: Sequence[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


class CpuMeter:
    """CPU milliseconds per sample of each group over the phases it measures."""

    def __init__(self) -> None:
        self.per_sample: dict[str, dict[str, float]] = {}

    async def measure(self, name: str, samples: int, phase: Awaitable[T]) -> T:
        before = cpu_by_process()
        result = await phase
        seconds = spent(before, cpu_by_process())
        self.per_sample[name] = {g: 1000 * seconds[g] / samples for g in CPU_GROUPS}
        return result

    def total(self, name: str) -> float:
        return sum(self.per_sample[name].values())

    def pair_line(self) -> str:
        """The CPU goal: an entry pair with its effects against the raw pair it is built on."""
        ours = self.total(PAIR)
        raw = self.total(RAW_START) + self.total(RAW_UPDATE)
        return (
            f"  CPU per entry pair {ours:.1f} ms vs the raw pair {raw:.1f} ms "
            f"({ours / raw:4.2f}x, goal <= 1.5x)"
        )

    def pair_figure(self) -> Figure:
        """The CPU goal's figure: an entry pair's CPU (every process) beside the raw pair's."""
        ours = self.total(PAIR)
        raw = self.total(RAW_START) + self.total(RAW_UPDATE)
        return Figure(
            "CPU per entry pair (all processes)",
            ours,
            "ms",
            1000 * ours,
            Anchor(f"{RAW_START} + {RAW_UPDATE}, CPU", raw, "ms"),
        )

    def report(self) -> str:
        lines = ["CPU per sample, ms (" + " / ".join(CPU_GROUPS) + "):"]
        for name, groups in self.per_sample.items():
            figures = " / ".join(f"{groups[g]:.1f}" for g in CPU_GROUPS)
            lines.append(f"  {name:<34} {figures}   total {sum(groups.values()):.1f}")
        return "\n".join(lines)


async def events_of(client: Client, workflow_id: str) -> Counter[str]:
    """A workflow's history, counted by kind of event."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return Counter(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in history.events)


def anatomy(ours: Counter[str], raw: int) -> str:
    """What an entry pair is made of in Temporal's terms, beside the raw pair's events."""
    tasks = ours["WORKFLOW_TASK_COMPLETED"]
    activities = ours["ACTIVITY_TASK_SCHEDULED"]
    markers = ours["MARKER_RECORDED"]
    return (
        f"  an entry pair's history: {sum(ours.values())} events (raw pair {raw}): "
        f"{tasks} workflow tasks, {activities} activity tasks, {markers} local activities, "
        f"{ours['TIMER_STARTED']} timers, {ours['UPSERT_WORKFLOW_SEARCH_ATTRIBUTES']} "
        "search attribute upserts"
    )


def line(
    name: str, ours: list[float], anchor: list[float], goal_p50: float, goal_p95: float
) -> str:
    p50, p95 = statistics.median(ours), percentile(ours, 95)
    a50, a95 = statistics.median(anchor), percentile(anchor, 95)
    return (
        f"  {name:<24} p50 {p50:7.1f} ms ({p50 / a50:4.2f}x, goal <= {goal_p50}x)   "
        f"p95 {p95:7.1f} ms ({p95 / a95:4.2f}x, goal <= {goal_p95}x)   "
        f"anchor p50 {a50:.1f} / p95 {a95:.1f} ms"
    )


def latency_figures(
    name: str, ours: list[float], anchor_name: str, anchor: list[float]
) -> list[Figure]:
    """The p50 and p95 of ``ours`` (ms), each beside the same percentile of its anchor."""
    p50s = statistics.median(ours), statistics.median(anchor)
    p95s = percentile(ours, 95), percentile(anchor, 95)
    return [
        Figure(f"{name} p{q}", mine, "ms", None, Anchor(f"{anchor_name} p{q}", theirs, "ms"))
        for q, (mine, theirs) in ((50, p50s), (95, p95s))
    ]
