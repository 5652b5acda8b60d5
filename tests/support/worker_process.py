"""A worker in a process of its own, configured by the environment as in production, that a
test can kill with SIGKILL and start again."""

import contextlib
import signal as signals
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.runtime.settings import Settings
from campaign_engine.stack.processes import Child, service_env
from tests.support.harness import Stack, end_running_campaigns

# A test kills its worker on purpose and starts another at once: the tasks queued for the dead
# worker's cache move on after this many seconds instead of production's 20 (a restart cost
# 20-30 s of waiting each). The tests run no flood, the reason for production's value.
KILLED_WORKER_STICKY_SECONDS = "3"


def worker_environment(
    temporal: WorkflowEnvironment, database_url: str, task_queue: str
) -> dict[str, str]:
    return service_env(
        temporal.client.service_client.config.target_host,
        database_url,
        namespace=temporal.client.namespace,
        campaigns_task_queue=task_queue,
        campaigns_sticky_timeout=KILLED_WORKER_STICKY_SECONDS,
    )


class WorkerProcess(Child):
    """``python -m <module>`` (the production worker by default) configured by ``env``, that
    a test kills with SIGKILL (``kill``) and starts again."""

    def __init__(
        self, env: dict[str, str], log: Path, module: str = "campaign_engine.worker"
    ) -> None:
        super().__init__("worker", [sys.executable, "-m", module], log, env)

    def stop(self, within: float = 0.0, first: int = signals.SIGKILL) -> None:
        """Killed at once: a test's worker has nothing to finish."""
        self.kill()


@contextlib.asynccontextmanager
async def stack_with_worker_process(
    temporal: WorkflowEnvironment,
    database_url: str,
    log_dir: Path,
    *,
    queue_prefix: str,
    env: Mapping[str, str] | None = None,
    module: str = "campaign_engine.worker",
    settings_options: Mapping[str, Any] | None = None,
    client_options: Mapping[str, Any] | None = None,
    start: bool = True,
) -> AsyncIterator[tuple[Stack, WorkerProcess]]:
    """A stack whose worker runs in a process of its own (``module``, configured by ``env`` on
    top of the production environment), on a task queue of its own; on the way out the worker
    is stopped, the queue's campaigns ended and the worker's log printed (pytest shows it when
    the test fails)."""
    queue = f"{queue_prefix}-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(
        {**worker_environment(temporal, database_url, queue), **(env or {})},
        log_dir / "worker.log",
        module=module,
    )
    engine = create_engine_for(database_url, pool_size=5)
    settings = Settings(
        database_url=database_url, task_queue=queue, metrics_port=None, **(settings_options or {})
    )
    repository = CampaignRepository(engine)
    client = CampaignClient(
        temporal.client, policy=settings.policy, task_queue=queue, **(client_options or {})
    )
    if start:
        worker.start()
    try:
        yield Stack(client, engine, repository, settings), worker
    finally:
        worker.stop()
        await end_running_campaigns(temporal.client, queue)
        await engine.dispose()
        print(worker.output()[-5000:])
