"""A worker in a process of its own, configured by the environment as in production, that a
test can kill with SIGKILL and start again."""

import os
import signal as signals
import subprocess
import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment


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
