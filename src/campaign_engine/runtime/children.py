"""Child processes that never outlive the process that started them, and stops that end
within a bound whatever the child does.

``campaigns dev`` runs servers (Temporal, PostgreSQL) as processes of their own. Stopped in
order, each gets a polite signal, then a forceful one after its bound. Killed (SIGKILL, its
process group killed, its terminal gone), it runs no code at all, so the kernel must end the
children: on Linux, ``PR_SET_PDEATHSIG`` has a child signalled when its parent dies.
"""

import ctypes
import os
import signal
import sys
from collections.abc import Callable

import psutil

_PR_SET_PDEATHSIG = 1  # <sys/prctl.h>


def dies_with_parent(sig: signal.Signals = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen``: the child receives ``sig`` when this process
    dies (Linux; elsewhere None, nothing is armed).

    The kernel signals the child when the *thread* that forked it ends, so start children from
    a thread that lives as long as the process (the main thread). libc and its ``prctl`` are
    looked up here, before the fork: the child only calls them. The setting survives exec but
    not a change of user, which is why it is set in the child after Popen's ``user=``."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the line above: follow it now
            os.kill(os.getpid(), sig)

    return arm


def stop_process(
    pid: int,
    *,
    first: signal.Signals = signal.SIGTERM,
    within: float,
    then: tuple[signal.Signals, float] | None = None,
    kill_after: float = 2.0,
) -> str:
    """Stop the process ``pid``: ``first``, and if it is still running after ``within``
    seconds, ``then`` (a signal and its own bound), and finally SIGKILL, waiting ``kill_after``
    at most for it to go. Answers how it ended, for the log: "already gone", or the signal
    that stopped it."""
    try:
        process = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return "already gone"
    steps: list[tuple[signal.Signals, float]] = [(first, within)]
    if then is not None:
        steps.append(then)
    steps.append((signal.SIGKILL, kill_after))
    for sig, bound in steps:
        try:
            process.send_signal(sig)
            process.wait(bound)
        except psutil.NoSuchProcess:
            pass
        except psutil.TimeoutExpired:
            continue
        return f"stopped by {sig.name}"
    return "still running after SIGKILL"


def running(pid: int, name: str) -> bool:
    """Whether ``pid`` is a live process called ``name`` (a pid in a file may be reused)."""
    try:
        process = psutil.Process(pid)
        return process.name() == name and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
