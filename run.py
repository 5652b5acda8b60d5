#!/usr/bin/env python3
"""The two commands a new user needs, on a machine with nothing but Python 3.11 to 3.14.

    python3 run.py         # install what is needed, then start the stack and play the demo
    python3 run.py test    # install what is needed, then lint, type-check, build the docs
                           # and run every test

The first run creates ``.venv`` next to this file and installs the project into it; later runs
reinstall only when ``pyproject.toml`` changed. Anything after the command is passed through,
e.g. ``python3 run.py test -k ladder``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".campaign-engine-installed"
# The Pythons every dependency ships wheels for (pyproject's requires-python and classifiers;
# tests/packaging checks all three agree).
OLDEST, NEWEST = (3, 11), (3, 14)


def _say(message: str) -> None:
    print(f"[run.py] {message}", flush=True)


def _requirements_fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_environment() -> None:
    if not OLDEST <= sys.version_info[:2] <= NEWEST:  # this file must run on any python3
        supported = "Python {}.{} to {}.{}".format(*OLDEST, *NEWEST)
        sys.exit(f"campaign-engine needs {supported}; this is {sys.version.split()[0]}")
    fingerprint = _requirements_fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    if not (BIN / "python").exists():
        _say(f"creating a virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    _say("installing campaign-engine and its tools (first run only; a few minutes)")
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(fingerprint)


def _run(argv: list[str]) -> int:
    return subprocess.run(argv, cwd=ROOT).returncode


def _stops_with_us() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the child sent SIGTERM (an orderly stop) when this process
    dies, however it dies (Linux's PR_SET_PDEATHSIG; elsewhere, nothing)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import signal

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    parent = os.getpid()

    def arm() -> None:
        prctl(1, int(signal.SIGTERM), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        if os.getppid() != parent:  # we died before the line above
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


def _run_foreground(argv: list[str]) -> int:
    """Run a long-lived child that handles Ctrl-C itself: the terminal sends SIGINT to both of
    us, and we wait for the child's orderly shutdown instead of killing it. Should we die
    first (killed, or our parent gone), the child is told to stop."""
    child = subprocess.Popen(argv, cwd=ROOT, preexec_fn=_stops_with_us())
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue


def ensure_chromium() -> None:
    """Debian's chromium for the browser tests (tests/browser), which drive it through
    Playwright and never download a browser of their own."""
    _ensure_debian_package(
        "chromium", "chromium", "the browser tests (tests/browser)", recommends=True
    )


# The Debian package starts a Prometheus server (port 9090) where services start, and a node
# exporter (9100) when recommends are installed; the tests start their own server. Each
# service, with the binary it runs.
PROMETHEUS_SERVICES = {
    "prometheus": "/usr/bin/prometheus",
    "prometheus-node-exporter": "/usr/bin/prometheus-node-exporter",
}


def ensure_prometheus() -> None:
    """Debian's prometheus: its promtool for the alert rules' tests
    (tests/integration/test_alert_rules.py) and its server for the metrics' end-to-end test
    (tests/e2e/test_prometheus.py). Installed without recommends, and the servers the install
    started are stopped."""
    # A node exporter the machine already ran is its owner's, and is left alone.
    theirs = {name for name, binary in PROMETHEUS_SERVICES.items() if Path(binary).exists()}
    if _ensure_debian_package("prometheus", "promtool", "the Prometheus tests"):
        stop_services([name for name in PROMETHEUS_SERVICES if name not in theirs])


def _ensure_debian_package(
    package: str, binary: str, tests: str, *, recommends: bool = False
) -> bool:
    """Install ``package`` (which gives ``binary``) with apt-get when ``binary`` is missing
    and we are root; otherwise ``tests`` are skipped, and this says why. Whether it installed
    it now."""
    if Path("/usr/bin", binary).exists() or shutil.which(binary):
        return False
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if not root or shutil.which("apt-get") is None:
        _say(
            f"{binary} is missing and can only be installed here by root with apt-get: "
            f"{tests} will be skipped; `apt-get install {package}` runs them"
        )
        return False
    _say(f"installing Debian's {package} for {tests} (apt-get, first run only)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", package]
    if not recommends:
        install.insert(-1, "--no-install-recommends")
    for step in (["apt-get", "update", "-q"], install):
        done = subprocess.run(step, env=env, stdout=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        _say(f"apt-get could not install {package}: {tests} will be skipped")
        return False
    return True


def stop_services(names: list[str]) -> None:
    """Stop (and, under systemd, disable) the services ``names`` of PROMETHEUS_SERVICES, so
    that nothing listens on 9090 or 9100 because of us."""
    systemd = Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None
    for name in names:
        if systemd:  # one unit at a time: a unit that is not installed fails the whole call
            _quietly(["systemctl", "disable", "--now", f"{name}.service"])
        elif (script := Path("/etc/init.d") / name).exists():
            _quietly([str(script), "stop"])
    # Where neither stopped it (no init at all, or a script that lost its pid file): these
    # binaries were not on the machine before the install, so whatever runs one was started
    # by it.
    for pid in running({PROMETHEUS_SERVICES[name] for name in names}):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def _quietly(argv: list[str]) -> None:
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def running(executables: set[str]) -> list[int]:
    """The ids of the processes running one of ``executables`` (Linux's /proc; elsewhere,
    none)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            executable = os.readlink(entry / "exe")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if executable.removesuffix(" (deleted)") in executables:
            found.append(int(entry.name))
    return found


# The tests run in worker processes (pytest-xdist), each with its own Temporal dev server and
# embedded PostgreSQL: a test spends much of its time waiting on a server, so more workers
# than cores pay; a fifth costs more than it gains (docs/testing.md, "How long it takes").
# ``-n 0`` (or any ``-n``) given to the command overrides it.
TEST_WORKERS = os.environ.get("CAMPAIGNS_TEST_WORKERS", "4")


def pytest_arguments(extra: list[str]) -> list[str]:
    """``extra`` with the defaults it does not override: the workers, and the ten slowest tests
    listed at the end (a regression in feedback time shows there first)."""
    chosen = [a for a in extra if a == "-n" or a.startswith(("-n", "--numprocesses", "--dist"))]
    workers = [] if chosen else ["-n", TEST_WORKERS, "--dist", "worksteal"]
    return [*workers, "--durations=10", *extra]


def run_tests(extra: list[str]) -> int:
    ensure_chromium()
    ensure_prometheus()
    # The tests start many Python processes (pytest's workers, each collecting every test
    # module; workers, APIs and CLIs as subprocesses). With PYTHONDONTWRITEBYTECODE set each
    # compiles the project's modules from source again, and pytest rewrites every test
    # module's asserts again in every worker: a fifth of a worker's collection time. The
    # compiled files go to __pycache__ folders, which git ignores.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    py = str(BIN / "python")
    # The docs are built where nothing is kept: the step is there to fail on a broken link,
    # a missing page or a page left out of mkdocs.yml's nav (strict mode), not to publish.
    site = tempfile.TemporaryDirectory(prefix="campaign-engine-site-")
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's banner, on every build
    steps: list[tuple[str, list[str]]] = [
        ("ruff", [py, "-m", "ruff", "check", "."]),
        ("ruff format", [py, "-m", "ruff", "format", "--check", "."]),
        ("mypy --strict", [py, "-m", "mypy"]),
        (
            "mkdocs build --strict",
            [py, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", site.name],
        ),
        ("pytest", [py, "-m", "pytest", *pytest_arguments(extra)]),
    ]
    if extra:  # a focused run (e.g. -k ladder) skips the whole-tree checks
        steps = steps[-1:]
    failed = []
    with site:
        for name, argv in steps:
            _say(f"{name} ...")
            started = time.monotonic()
            code = _run(argv)
            _say(f"{name}: {'failed' if code else 'passed'} in {time.monotonic() - started:.0f} s")
            if code != 0:
                failed.append(name)
    if failed:
        _say("FAILED: " + ", ".join(failed))
        return 1
    _say("all checks passed")
    return 0


def main(argv: list[str]) -> int:
    command, extra = (argv[0], argv[1:]) if argv else ("dev", [])
    ensure_environment()
    if command == "test":
        return run_tests(extra)
    if command == "dev":  # the main job: the whole stack, with the demo played through it
        return _run_foreground([str(BIN / "campaigns"), "dev", "--demo", *extra])
    if command == "campaigns":
        return _run_foreground([str(BIN / "campaigns"), *extra])
    sys.stderr.write(f"unknown command {command!r}; use: python3 run.py [test|campaigns ...]\n")
    return 2


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio can abort the interpreter at exit (sdk-python#300); the exit code is ours.
    os._exit(code)
