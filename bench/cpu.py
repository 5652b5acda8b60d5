"""Where a benchmark's CPU goes: this process (the bench and its in-process worker), the
Temporal dev server it started, and the PostgreSQL work done for it.

Only the bench's own servers count, so that other work on the machine (another dev server, other
databases on a shared PostgreSQL) does not land in its figures:
- Temporal: the ``temporal`` processes descended from this one (``start_local`` runs the dev
  server as a child);
- PostgreSQL: once ``watch_postgres`` names the bench's database, either its server's data
  directory (an embedded server: its postmaster and every backend, ended ones included through
  the postmaster's children times) or its database name on a shared server (the backends
  serving that database: the bench's pools keep theirs open, so one that ended early is the
  only thing missed). Unwatched, every postgres process on the machine counts (what the
  benchmarks did before).
"""

import os

import psutil

CPU_GROUPS = ("bench+worker", "temporal", "postgres")

_watched: dict[str, str] = {}


def watch_postgres(*, data_dir: str | None = None, database: str | None = None) -> None:
    """Count only this PostgreSQL's work as the bench's (see the module's docstring)."""
    _watched.clear()
    if data_dir is not None:
        _watched["data_dir"] = os.path.realpath(data_dir)
    elif database is not None:
        _watched["database"] = database


def _times(proc: psutil.Process, *, with_children: bool = True) -> float:
    times = proc.cpu_times()
    total = times.user + times.system
    if with_children:
        # Children that ended are in these: PostgreSQL's backends that came and went.
        total += times.children_user + times.children_system
    return total


def _temporal_seconds() -> float:
    total = 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            if proc.name().startswith("temporal"):
                total += _times(proc)
        except psutil.NoSuchProcess:
            continue
    return total


def _is_postmaster_of(proc: psutil.Process, data_dir: str) -> bool:
    cmdline = proc.cmdline()
    return "-D" in cmdline and any(
        os.path.realpath(arg) == data_dir for arg in cmdline[cmdline.index("-D") + 1 :][:1]
    )


def _postgres_seconds() -> float:
    total = 0.0
    data_dir, database = _watched.get("data_dir"), _watched.get("database")
    for proc in psutil.process_iter(["name"]):
        if not (proc.info["name"] or "").startswith("postgres"):
            continue
        try:
            if data_dir is not None:
                if _is_postmaster_of(proc, data_dir):
                    total += _times(proc)
                    total += sum(_times(child) for child in proc.children())
            elif database is not None:
                # A backend's title: "postgres: [<cluster>: ]<user> <database> <client> <state>".
                title = proc.cmdline()[0] if proc.cmdline() else ""
                if title.startswith("postgres:") and database in title.split():
                    total += _times(proc, with_children=False)
            else:
                total += _times(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by each group (differences of two readings are the figures)."""
    return {
        "bench+worker": _times(psutil.Process(), with_children=False),
        "temporal": _temporal_seconds(),
        "postgres": _postgres_seconds(),
    }
