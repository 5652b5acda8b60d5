"""``campaigns dev`` as a newcomer runs it: everything embedded, data in a data directory, the
URLs printed, Ctrl-C stopping it cleanly, and a restart finding the campaigns again.

And as an operator needs it to behave when things go wrong: Ctrl-C stops it in order within
30 s even while a campaign's activity is stuck and being retried, and killing it (the process
group, with SIGKILL) leaves neither its Temporal server nor its PostgreSQL running."""

import asyncio
import contextlib
import os
import signal as signals
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.runtime.children import stop_process
from campaign_engine.testing.builders import signal
from tests.support.dev_stack import DevStack, descendants

RUN_PY = Path(__file__).resolve().parents[2] / "run.py"
CAMPAIGN = "AAPL-2024-10-15"
STOP_BOUND = 30.0  # seconds: what an operator's Ctrl-C may take, whatever the campaigns do


@pytest.fixture
def stack(dev_stack: DevStack) -> DevStack:
    return dev_stack


def _connect(stack: DevStack) -> psycopg.Connection:
    """A connection of the test's own to the stack's embedded PostgreSQL, through the socket
    its ``postmaster.pid`` names."""
    lines = (stack.data_dir / "postgres" / "postmaster.pid").read_text().splitlines()
    return psycopg.connect(
        host=lines[4], port=lines[3], user="postgres", dbname="postgres", autocommit=True
    )


def _alive(processes: list[psutil.Process]) -> list[str]:
    alive = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{process.pid} {' '.join(process.cmdline())[:120]}")
    return alive


async def _gone_within(stack: DevStack, children: list[psutil.Process], seconds: float) -> float:
    """Wait for every process of the stack to be gone; answers how long that took."""
    started = time.monotonic()
    deadline = started + seconds
    while True:
        remaining = _alive(children) + _alive(stack.leftovers())
        if not remaining:
            return time.monotonic() - started
        if time.monotonic() > deadline:
            raise AssertionError(f"still running {seconds:.0f} s later: {remaining}")
        await asyncio.sleep(0.2)


def _postgres_tree(stack: DevStack) -> list[psutil.Process]:
    """The stack's postmaster and its backends (whose command lines do not name the data)."""
    postmaster = psutil.Process(
        int((stack.data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    )
    return [postmaster, *postmaster.children(recursive=True)]


async def _until_a_write_waits(blocker: psycopg.Connection, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    while (row := blocker.execute(query).fetchone()) is None or row[0] == 0:
        assert time.monotonic() < deadline, "no campaign write ever waited on the lock"
        await asyncio.sleep(0.2)


async def _campaign(stack: DevStack, seconds: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=stack.api) as http:
        while (found := await http.get(f"/api/v1/campaigns/{CAMPAIGN}")).status_code != 200:
            assert time.monotonic() < deadline, found.text
            await asyncio.sleep(0.2)
    return found


@pytest.mark.long(seconds=17)
async def test_dev_stack_runs_persists_and_stops_cleanly(stack: DevStack) -> None:
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


async def test_ctrl_c_stops_in_order_within_30_s_while_a_campaign_is_stuck(stack: DevStack) -> None:
    """A campaign whose change cannot be saved (its audit trail is locked by another
    session) has its ``carry_out`` running inside a workflow task, timing out and retried
    without end: Ctrl-C still stops everything, in order, within 30 s, exits 0 and leaves no
    process behind. (Before, the worker's shutdown waited for that task: over 90 s.)"""
    spring = signal(Pattern.SPRING).model_dump(mode="json")
    below_the_stop = {"symbol": "AAPL", "as_of": "2024-10-15T15:00:00Z", "price": "146.00"}

    async with stack.running() as process:
        async with httpx.AsyncClient(base_url=stack.api, timeout=30) as http:
            assert (await http.post("/api/v1/signals", json=spring)).json()["approved"] is True
            await _campaign(stack)
            blocker = _connect(stack)
            # Every change a campaign saves writes its events to the audit trail: with the
            # table locked, the save waits, the activity times out and is tried again.
            blocker.execute("BEGIN")
            blocker.execute("LOCK TABLE audit_trail IN EXCLUSIVE MODE")
            assert (await http.post("/api/v1/prices", json=below_the_stop)).status_code == 202
        try:
            await _until_a_write_waits(blocker)
            running = descendants(process.pid) + _postgres_tree(stack)
            started = time.monotonic()
            process.send_signal(signals.SIGINT)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), STOP_BOUND + 30)
            took = time.monotonic() - started
        finally:
            with contextlib.suppress(psycopg.Error):
                blocker.close()
        printed = stack.output.read_text()
        stopping = printed[printed.rindex("stopping") :]
        print(f"campaigns dev stopped in {took:.2f} s with a campaign stuck:\n{stopping}")
        assert took < STOP_BOUND, printed[-3000:]
        assert process.returncode == 0, printed[-3000:]
        await _gone_within(stack, running, 2)
    # In order, each stage with how it ended and how long it took.
    lines = [line for line in stopping.splitlines() if line.startswith("  ")]
    assert all(line.endswith(" s)") for line in lines), stopping
    stages = [line.split(":")[0].strip() for line in lines]
    assert stages == ["API", "worker", "database connections", "Temporal", "PostgreSQL"]


@pytest.mark.long(seconds=18)
async def test_a_killed_stack_leaves_nothing_running_and_starts_again(stack: DevStack) -> None:
    """SIGKILL to the whole process group of ``campaigns dev``: its Temporal server and its
    PostgreSQL are gone within seconds, and the next start on the same data finds the
    campaign."""
    spring = signal(Pattern.SPRING).model_dump(mode="json")

    async with stack.running() as process:
        async with httpx.AsyncClient(base_url=stack.api, timeout=30) as http:
            assert (await http.post("/api/v1/signals", json=spring)).json()["approved"] is True
        await _campaign(stack)
        running = descendants(process.pid) + _postgres_tree(stack)
        os.killpg(process.pid, signals.SIGKILL)
        await process.wait()
        took = await _gone_within(stack, running, 5)
        print(f"a killed campaigns dev left nothing running {took:.2f} s later")

    async with stack.running() as process:
        body = (await _campaign(stack)).json()
        assert body["status"] == "ACTIVE"
        assert await stack.stop(process) == 0


@pytest.mark.skipif(
    not (RUN_PY.parent / ".venv" / "bin" / "campaigns").exists(), reason="run.py's .venv absent"
)
async def test_a_killed_run_py_has_the_stack_stop_in_order(stack: DevStack) -> None:
    """``python3 run.py`` killed (SIGKILL, nothing of it runs): ``campaigns dev`` under it is
    told (SIGTERM) and stops in order, leaving nothing running."""
    async with stack.running((sys.executable, str(RUN_PY), "campaigns")) as run_py:
        dev = psutil.Process(run_py.pid).children()[0]
        running = [dev, *descendants(dev.pid), *_postgres_tree(stack)]
        run_py.kill()
        await run_py.wait()
        took = await _gone_within(stack, running, STOP_BOUND)
        print(f"campaigns dev stopped {took:.2f} s after run.py was killed")
    printed = stack.output.read_text()
    assert "stopping" in printed and "stopped in" in printed, printed[-3000:]


def test_a_server_deaf_to_its_stop_signal_is_killed_at_its_bound() -> None:
    """The escalation every server of the stack gets: a process that ignores SIGTERM (and the
    second signal) is killed with SIGKILL once the bounds are up, not waited for."""
    deaf = (
        "import signal, sys, time\n"
        "for s in (signal.SIGTERM, signal.SIGQUIT): signal.signal(s, signal.SIG_IGN)\n"
        "print('ready', flush=True); time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", deaf], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        started = time.monotonic()
        ended = stop_process(process.pid, within=0.5, then=(signals.SIGQUIT, 0.5))
        took = time.monotonic() - started
        assert ended == "stopped by SIGKILL"
        assert 1.0 <= took < 2.0
        assert not psutil.pid_exists(process.pid)
    finally:
        process.kill()
        process.wait()
