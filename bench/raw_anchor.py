"""The raw Temporal anchor of the benchmarks: a workflow that does nothing but answer.

Kept alone in its module so that the workflow sandbox imports nothing else with it."""

from temporalio import workflow


@workflow.defn(name="RawAnchor")
class RawAnchor:
    """The least a workflow can be: an update that answers at once, a signal that counts."""

    def __init__(self) -> None:
        self.signals = 0
        self.done = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done)
        return self.signals

    @workflow.update
    async def ping(self, value: str) -> str:
        return value

    @workflow.signal
    def tick(self, value: str) -> None:
        self.signals += 1

    @workflow.signal
    def finish(self) -> None:
        self.done = True
