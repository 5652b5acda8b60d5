"""Where a benchmark's CPU goes: this process (the bench and its in-process worker), the
Temporal dev server it started, and the PostgreSQL work done for it.

Only the bench's own servers count, so that other work on the machine (another dev server, other
databases on a shared PostgreSQL) does not land in its figures:
- the bench: this process and the worker processes it started (``python`` descendants);
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


def _is_postmaster_of(proc: psutil.Process, data_dir: str) -> bool:
    cmdline = proc.cmdline()
    return "-D" in cmdline and any(
        os.path.realpath(arg) == data_dir for arg in cmdline[cmdline.index("-D") + 1 :][:1]
    )


def _group_of(
    proc: psutil.Process, me: int, descendants: set[int], data_dir: str | None, database: str | None
) -> str | None:
    name = proc.name()
    if proc.pid == me or (proc.pid in descendants and name.startswith("python")):
        return "bench+worker"  # the bench, and the worker processes it started
    if name.startswith("temporal"):
        return "temporal" if proc.pid in descendants else None
    if not name.startswith("postgres"):
        return None
    if data_dir is not None:
        return "postgres" if _is_postmaster_of(proc, data_dir) else None
    if database is not None:
        # A backend's title: "postgres: [<cluster>: ]<user> <database> <client> <state>".
        title = proc.cmdline()[0] if proc.cmdline() else ""
        return "postgres" if title.startswith("postgres:") and database in title.split() else None
    return "postgres"


def cpu_by_process() -> dict[int, tuple[str, float]]:
    """CPU seconds so far of each process counted, with its group. Compare two readings with
    ``spent``: each process by its own difference, so a process ending between them (another
    job's, or a worker stopped) takes its CPU with it instead of making a figure negative."""
    me = psutil.Process()
    descendants = {p.pid for p in me.children(recursive=True)}
    data_dir, database = _watched.get("data_dir"), _watched.get("database")
    found: dict[int, tuple[str, float]] = {}
    for proc in psutil.process_iter():
        try:
            group = _group_of(proc, me.pid, descendants, data_dir, database)
            if group is None:
                continue
            seconds = _times(proc, with_children=proc.pid != me.pid)
            if group == "postgres" and data_dir is not None:
                # The embedded server: its postmaster and every backend of it.
                seconds += sum(_times(child) for child in proc.children())
            found[proc.pid] = (group, seconds)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def spent(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds of each group between two ``cpu_by_process`` readings."""
    totals = dict.fromkeys(CPU_GROUPS, 0.0)
    for pid, (group, seconds) in after.items():
        earlier = before.get(pid)
        totals[group] += seconds - (
            earlier[1] if earlier is not None and earlier[0] == group else 0.0
        )
    return totals


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by each group (prefer ``spent`` over two readings: processes
    that end between readings are then left out rather than subtracted)."""
    return spent({}, cpu_by_process())


class CpuWindow:
    """CPU seconds of the bench+worker / Temporal / PostgreSQL processes over a block (the
    bench's own servers only, each process by its own difference: ``bench.micro.cpu``)."""

    def __enter__(self) -> "CpuWindow":
        self._before = cpu_by_process()
        self.seconds: dict[str, float] = {}
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = spent(self._before, cpu_by_process())

    def us_per(self, count: int) -> float:
        """CPU microseconds per operation, every group together."""
        return 1e6 * sum(self.seconds.values()) / max(count, 1)

    def per(self, count: int, unit: float = 1000) -> str:
        parts = " / ".join(f"{unit * s / max(count, 1):.2f}" for s in self.seconds.values())
        total = unit * sum(self.seconds.values()) / max(count, 1)
        return f"{parts} (total {total:.2f})"
