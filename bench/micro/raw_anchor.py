"""The raw Temporal anchor of the benchmarks: a workflow that does nothing but answer (and,
for a floor, answers through one no-op local activity).

Kept alone in its module so that the workflow sandbox imports nothing else with it."""

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="raw_noop")
async def raw_noop(value: str) -> str:
    return value


@workflow.defn(name="RawAnchor")
class RawAnchor:
    """The least a workflow can be: an update that answers at once, a signal that counts."""

    def __init__(self) -> None:
        self.signals = 0
        self.done = False
        self.follow_ups = 0

    @workflow.run
    async def run(self) -> int:
        while True:
            await workflow.wait_condition(lambda: self.done or self.follow_ups > 0)
            if not self.follow_ups:
                return self.signals
            self.follow_ups -= 1
            await workflow.execute_activity(
                raw_noop, "x", start_to_close_timeout=timedelta(seconds=10)
            )

    @workflow.update
    async def ping(self, value: str) -> str:
        return value

    @workflow.update
    async def ping_then_activity(self, value: str) -> str:
        """Answer, then run one no-op activity: what carrying out a decision after its answer
        costs at least (an activity task and the workflow task that takes its result)."""
        self.follow_ups += 1
        return value

    @workflow.update
    async def ping_through_local_activity(self, value: str) -> str:
        """The least a decision that asks a database first can cost."""
        answer: str = await workflow.execute_local_activity(
            raw_noop, value, start_to_close_timeout=timedelta(seconds=10)
        )
        return answer

    @workflow.update
    async def ping_through_transaction(self, value: str) -> str:
        """The later entry's floor: one local activity running one PostgreSQL transaction of
        a reservation's shape (``bench.micro.raw_transaction``)."""
        answer: str = await workflow.execute_local_activity(
            "raw_transaction",
            value,
            result_type=str,
            start_to_close_timeout=timedelta(seconds=10),
        )
        return answer

    @workflow.signal
    def tick(self, value: str) -> None:
        self.signals += 1

    @workflow.signal
    def finish(self) -> None:
        self.done = True
