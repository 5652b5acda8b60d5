"""A PostgreSQL server of a test's own, which the test may stop and start again (an outage):
initdb in a temporary directory, trust auth, listening on a free port of 127.0.0.1.

The binaries are Debian's (``/usr/lib/postgresql/<n>/bin``) or, failing those, the embedded
server's. PostgreSQL refuses to run as root: then the server runs as the ``postgres`` user
(or the ``pgserver`` user the embedded server creates) through ``runuser``."""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _bin_dir() -> Path:
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if debian:
        return debian[-1].parent
    from campaign_engine.db.embedded import postgres_bin_dir

    return postgres_bin_dir()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivatePostgres:
    def __init__(self, root: Path) -> None:
        self.bin = _bin_dir()
        self.data = root / "data"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._user: str | None = None
        if os.geteuid() == 0:
            self._user = next(u for u in ("postgres", "pgserver") if _exists(u))
            entry = pwd.getpwnam(self._user)
            os.chmod(root, 0o755)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "utf8")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.data / "log"),
                  "-o", options, "start")  # fmt: skip

    def stop(self) -> None:
        """A fast shutdown: sessions are ended, as when a database host goes away."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    root = Path(tempfile.mkdtemp(prefix="ce-private-pg-"))
    server = PrivatePostgres(root)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
