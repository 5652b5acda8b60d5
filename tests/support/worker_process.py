"""A worker in a process of its own, configured by the environment as in production, that a
test can kill with SIGKILL and start again."""

import contextlib
import os
import signal as signals
import subprocess
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
from tests.support.harness import Stack, end_running_campaigns


def worker_environment(
    temporal: WorkflowEnvironment, database_url: str, task_queue: str
) -> dict[str, str]:
    return {
        **os.environ,
        "TEMPORAL_ADDRESS": temporal.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": temporal.client.namespace,
        "DATABASE_URL": database_url,
        "CAMPAIGNS_TASK_QUEUE": task_queue,
        "METRICS_PORT": "off",
        "LOG_LEVEL": "WARNING",
    }


class WorkerProcess:
    """``python -m <module>`` (the production worker by default) configured by ``env``."""

    def __init__(
        self, env: dict[str, str], log: Path, module: str = "campaign_engine.worker"
    ) -> None:
        self._env = env
        self._log = log
        self._module = module
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self._module],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signals.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


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
