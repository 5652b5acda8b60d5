"""``campaigns dev`` run as a newcomer runs it, in a process group of its own, on free ports
and a data directory of its own: the end-to-end tests that need the whole stack as shipped
(its processes, their addresses, Ctrl-C) start it here."""

import asyncio
import contextlib
import os
import shutil
import signal as signals
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import psutil
import pytest

CLI = Path(sys.executable).parent / "campaigns"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class DevStack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.temporal_port, self.ui_port, self.api_port = free_port(), free_port(), free_port()
        self.output = data_dir / "dev-output.txt"
        self._output_from = 0  # where the output of the last start begins

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @asynccontextmanager
    async def running(
        self,
        launcher: tuple[str, ...] = (str(CLI),),
        *options: str,
        environment: Mapping[str, str] | None = None,
    ) -> AsyncIterator[asyncio.subprocess.Process]:
        """``campaigns dev`` with ``options`` (``--demo``, say) for the block, ``environment``
        over the defaults (no worker metrics, this stack's data directory)."""
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "API_TOKEN"}}
        env.update(CAMPAIGNS_DATA_DIR=str(self.data_dir), METRICS_PORT="off", COLUMNS="200")
        env.update(environment or {})
        for attempt in range(3):
            process = await self._start(launcher, options, env)
            started: list[psutil.Process] = []
            try:
                if not await self._healthy(process) and attempt < 2:
                    # A port picked free was taken before the stack bound it (another test's
                    # server): new ports, again.
                    self.temporal_port, self.ui_port, self.api_port = (
                        free_port(),
                        free_port(),
                        free_port(),
                    )
                    continue
                started = descendants(process.pid)
                yield process
                return
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
                # Whatever a failing run left, never on this machine after it.
                for child in started:
                    with contextlib.suppress(psutil.Error):
                        child.kill()
                self.kill_leftovers()

    async def _start(
        self, launcher: tuple[str, ...], options: tuple[str, ...], env: Mapping[str, str]
    ) -> asyncio.subprocess.Process:
        self._output_from = self.output.stat().st_size if self.output.exists() else 0
        with self.output.open("ab") as sink:
            return await asyncio.create_subprocess_exec(
                *launcher,
                "dev",
                "--temporal-port",
                str(self.temporal_port),
                "--ui-port",
                str(self.ui_port),
                "--api-port",
                str(self.api_port),
                *options,
                stdout=sink,
                stderr=sink,
                env=dict(env),
                start_new_session=True,  # a group of its own, which a test may kill whole
            )

    async def _healthy(self, process: asyncio.subprocess.Process) -> bool:
        """True once the API answers; False when the stack exited because a port was taken."""
        async with httpx.AsyncClient(base_url=self.api) as http:
            for _ in range(600):
                if process.returncode is not None:
                    said = self.output.read_bytes()[self._output_from :].decode(errors="replace")
                    if "is already in use" in said:
                        return False
                    raise AssertionError(f"campaigns dev exited:\n{self.output.read_text()}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return True
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.25)
        raise AssertionError(f"campaigns dev never became healthy:\n{self.output.read_text()}")

    async def stop(self, process: asyncio.subprocess.Process) -> int:
        process.send_signal(signals.SIGINT)
        return await asyncio.wait_for(process.wait(), 60)

    def leftovers(self) -> list[psutil.Process]:
        """The processes still running for this stack's data directory: its Temporal server
        (``--db-filename`` there), its PostgreSQL (``-D`` there) and anything else naming it."""
        found = []
        marker = str(self.data_dir.resolve())
        for process in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):
                if any(marker in part for part in process.info["cmdline"] or ()):
                    found.append(process)
        return found

    def kill_leftovers(self) -> None:
        for process in self.leftovers():
            with contextlib.suppress(psutil.Error):
                process.kill()


@pytest.fixture
def dev_stack() -> Iterator[DevStack]:
    """A stack on a data directory outside pytest's temporary root: that root is private to
    its user (0700, reset by every pytest session starting on the machine), and PostgreSQL,
    which runs as another user when the tests run as root, must reach its data."""
    root = Path(tempfile.mkdtemp(prefix="ce-dev-stack-"))
    stack = DevStack(root / "data")
    stack.data_dir.mkdir()
    yield stack
    stack.kill_leftovers()
    shutil.rmtree(root, ignore_errors=True)


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)
