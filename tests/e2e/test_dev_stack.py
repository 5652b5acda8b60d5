"""``campaigns dev`` as a newcomer runs it: everything embedded, data in a data directory, the
URLs printed, Ctrl-C stopping it cleanly, and a restart finding the campaigns again."""

import asyncio
import os
import signal as signals
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from campaign_engine.domain.vocabulary import Pattern
from tests.support.builders import signal

CLI = Path(sys.executable).parent / "campaigns"
CAMPAIGN = "AAPL-2024-10-15"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class DevStack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.temporal_port, self.ui_port, self.api_port = _free_port(), _free_port(), _free_port()
        self.output = data_dir / "dev-output.txt"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @asynccontextmanager
    async def running(self) -> AsyncIterator[asyncio.subprocess.Process]:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "API_TOKEN"}}
        env.update(CAMPAIGNS_DATA_DIR=str(self.data_dir), METRICS_PORT="off", COLUMNS="200")
        with self.output.open("ab") as sink:
            process = await asyncio.create_subprocess_exec(
                str(CLI),
                "dev",
                "--temporal-port",
                str(self.temporal_port),
                "--ui-port",
                str(self.ui_port),
                "--api-port",
                str(self.api_port),
                stdout=sink,
                stderr=sink,
                env=env,
            )
        try:
            await self._healthy(process)
            yield process
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

    async def _healthy(self, process: asyncio.subprocess.Process) -> None:
        async with httpx.AsyncClient(base_url=self.api) as http:
            for _ in range(600):
                if process.returncode is not None:
                    raise AssertionError(f"campaigns dev exited:\n{self.output.read_text()}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.25)
        raise AssertionError(f"campaigns dev never became healthy:\n{self.output.read_text()}")

    async def stop(self, process: asyncio.subprocess.Process) -> int:
        process.send_signal(signals.SIGINT)
        return await asyncio.wait_for(process.wait(), 60)


async def test_dev_stack_runs_persists_and_stops_cleanly(tmp_path: Path) -> None:
    stack = DevStack(tmp_path / "data")
    stack.data_dir.mkdir()
    spring = signal(Pattern.SPRING).model_dump(mode="json")

    async with stack.running() as process:
        printed = stack.output.read_text()
        urls = [line.split()[-1] for line in printed.splitlines() if "http://" in line]
        assert urls[0] == f"http://127.0.0.1:{stack.api_port}/"  # the dashboard, first
        assert f"http://127.0.0.1:{stack.ui_port}" in printed
        assert f"http://127.0.0.1:{stack.api_port}/docs" in printed
        async with httpx.AsyncClient(base_url=stack.api) as http:
            ui = await http.get(f"http://127.0.0.1:{stack.ui_port}/")
            assert ui.status_code == 200
            assert (await http.get("/docs")).status_code == 200
            assert "/dashboard/app.js" in (await http.get("/")).text
            plan = (await http.post("/api/v1/signals", json=spring)).json()
            assert plan["approved"] is True
        temporal = await Client.connect(f"127.0.0.1:{stack.temporal_port}")
        registered = await temporal.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="default")
        )
        assert {"CampaignSymbol", "CampaignStatus", "CampaignPhase"} <= set(
            registered.custom_attributes
        )
        assert await stack.stop(process) == 0
    assert "stopped" in stack.output.read_text()
    assert (stack.data_dir / "temporal.db").exists()
    assert (stack.data_dir / "postgres").is_dir()

    async with stack.running() as process:  # a restart finds the campaign and its workflow
        async with httpx.AsyncClient(base_url=stack.api) as http:
            campaign = await http.get(f"/api/v1/campaigns/{CAMPAIGN}")
            assert campaign.status_code == 200, campaign.text
            body = campaign.json()
            assert body["status"] == "ACTIVE"
            assert [p["pattern"] for p in body["positions"]] == ["SPRING"]
            same = (await http.post("/api/v1/signals", json=spring)).json()
            assert same["approved"] is True and same["shares"] == plan["shares"]
        assert await stack.stop(process) == 0
