"""One run's stack: PostgreSQL, Temporal, a worker and the API, started from nothing in a
folder of their own (``campaign_engine.stack``'s processes), kept running like a process
supervisor would (a worker or API that exits of itself is started again a second later), and
every process group killed at the end."""

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from campaign_engine.db.migrate import migrate
from campaign_engine.stack.private_postgres import PrivatePostgres
from campaign_engine.stack.processes import (
    API,
    WORKER,
    Child,
    free_port,
    python_child,
    service_env,
    wait_until_healthy,
)
from campaign_engine.stack.temporal_server import TemporalDevServer

# Heat as high as the policy allows: a wave plays some thirty campaigns at once, which the
# default 10% would mostly refuse; the chaos run is about losing nothing, not about heat.
POLICY = """\
portfolio_max_heat_pct = 100.0
heat_warning_pct = 90.0
heat_critical_pct = 95.0
correlated_max_risk_pct = 100.0
"""
RESTART_AFTER = 1.0  # seconds before a supervised process that exited is started again


@dataclass
class Stack:
    root: Path
    postgres: PrivatePostgres
    temporal: TemporalDevServer
    worker: Child
    api: Child
    api_url: str
    held: set[str] = field(default_factory=set)  # names a fault holds down
    exits: list[str] = field(default_factory=list)  # exits nobody asked for
    started: float = field(default_factory=time.monotonic)
    _supervising: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, root: Path, *, sticky_timeout_seconds: float | None = None) -> "Stack":
        root.mkdir(parents=True, exist_ok=True)
        policy = root / "policy.toml"
        policy.write_text(POLICY)
        postgres, temporal = PrivatePostgres(root), TemporalDevServer(root)
        api_port = free_port()
        env = service_env(
            temporal.address,
            postgres.url,
            campaigns_policy=str(policy),
            account_equity="100000",
            broker="paper",
        )
        if sticky_timeout_seconds is not None:
            env["CAMPAIGNS_STICKY_TIMEOUT"] = str(sticky_timeout_seconds)
        stack = cls(
            root,
            postgres,
            temporal,
            python_child("worker", WORKER, root, env),
            python_child("api", (*API, "--port", str(api_port)), root, env),
            f"http://127.0.0.1:{api_port}",
        )
        try:
            await asyncio.to_thread(postgres.init)
            postgres.start()  # the servers from the main thread: they die with this process
            await asyncio.to_thread(migrate, postgres.url)
            temporal.start()
            await asyncio.to_thread(temporal.wait_until_listening)
            stack.worker.start()
            stack.api.start()
            await wait_until_healthy(stack.api_url, 120, stack.api.log)
        except BaseException:
            stack.close()
            raise
        stack._supervising = asyncio.create_task(stack._supervise())
        return stack

    def now(self) -> float:
        return time.monotonic() - self.started

    async def _supervise(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            for child in (self.worker, self.api):
                if child.name in self.held or child.running:
                    continue
                code = child.process.returncode if child.process else None
                self.exits.append(f"{self.now():7.1f} s  {child.name} exited ({code})")
                await asyncio.sleep(RESTART_AFTER)
                if child.name not in self.held and not child.running:
                    child.start()

    async def kill(self, child: Child, down_for: float) -> None:
        """SIGKILL ``child``'s group, keep it down ``down_for`` seconds, start it again."""
        self.held.add(child.name)
        try:
            await asyncio.to_thread(child.kill)
            await asyncio.sleep(down_for)
            child.start()
        finally:
            self.held.discard(child.name)

    def close(self) -> None:
        if self._supervising is not None:
            self._supervising.cancel()
        self.held.update({"worker", "api"})
        for child in (self.api, self.worker, self.temporal.child):
            child.kill()
        self.postgres.close()
