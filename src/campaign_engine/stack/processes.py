"""The stack's processes: commands started in a session of their own that die with the
process that started them, can be signalled or killed as a whole group, and are all killed
when that process exits; the ports they listen on; the environment a worker or the API reads.

``campaigns dev``, the end-to-end tests, the benchmarks and the chaos run all start their
children here, so that none of them can leave a server behind."""

import asyncio
import atexit
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from signal import SIGKILL, SIGTERM

import httpx

from campaign_engine.runtime.children import dies_with_parent

RESERVED_PORTS = {5432, 7233, 8000, 8233}  # the usual stack's: a free port picked is never one


class StackError(RuntimeError):
    """A part of the stack cannot start; the message says what to do."""


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now (nor one the usual stack uses)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port


def accepts(host: str, port: int) -> bool:
    """Whether something accepts connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


_LIVE: set["Child"] = set()  # every child started and not yet killed, for the last resort


@atexit.register
def _kill_everything() -> None:
    """However the process ends short of SIGKILL (where ``dies_with_parent`` takes over), no
    process group it started outlives it."""
    for child in list(_LIVE):
        child.kill()


class Child:
    """One command in a session (process group) of its own, its output appended to ``log``;
    it dies with this process (started from the main thread, see ``dies_with_parent``)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Path,
        env: Mapping[str, str] | None = None,
        user: str | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.env = dict(env) if env is not None else None
        self.user = user
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            out.write(f"\n--- start {self.starts + 1} at {time.time():.3f}\n".encode())
            out.flush()
            self.process = subprocess.Popen(  # noqa: S603 - our own commands
                self.argv,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=self.user,
                preexec_fn=dies_with_parent(),
            )
        self.starts += 1
        _LIVE.add(self)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def signal(self, sig: int) -> None:
        """``sig`` to the child's whole group."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, sig)

    def wait(self, timeout: float) -> bool:
        """True when it has exited within ``timeout`` seconds."""
        if self.process is None:
            return True
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self, within: float = 10.0, first: int = SIGTERM) -> None:
        """``first`` to its group, SIGKILL after ``within`` seconds."""
        if self.running:
            self.signal(first)
            if not self.wait(within):
                self.kill()
        _LIVE.discard(self)

    def kill(self) -> None:
        """SIGKILL to its whole group, and reap it."""
        self.signal(SIGKILL)
        self.wait(10)
        _LIVE.discard(self)


def python_child(
    name: str, args: Sequence[str], folder: Path, env: Mapping[str, str] | None = None
) -> Child:
    """``python <args>`` with this interpreter, logging to ``<folder>/<name>.log``."""
    return Child(name, [sys.executable, *args], folder / f"{name}.log", env)


WORKER = ("-m", "campaign_engine.worker")
API = ("-c", "from campaign_engine.cli import main; main()", "api")


def service_env(
    temporal_address: str,
    database_url: str,
    *,
    namespace: str = "default",
    **settings: str,
) -> dict[str, str]:
    """The environment a worker or the API is configured by, as in production: this
    process's, the stack's addresses, no metrics port, warnings only, and ``settings`` (their
    environment variables' names in lower case: ``campaigns_task_queue="q"``)."""
    return {
        **os.environ,
        "TEMPORAL_ADDRESS": temporal_address,
        "TEMPORAL_NAMESPACE": namespace,
        "DATABASE_URL": database_url,
        "METRICS_PORT": "off",
        "LOG_LEVEL": "WARNING",
        **{name.upper(): value for name, value in settings.items()},
    }


async def wait_until_healthy(api_url: str, timeout: float, log: Path | None = None) -> None:
    """Until the API at ``api_url`` answers ``/healthz`` (StackError after ``timeout``)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=api_url, timeout=5) as http:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/healthz")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                where = f"; see {log}" if log is not None else ""
                raise StackError(f"the API at {api_url} did not become healthy{where}")
            await asyncio.sleep(0.2)
