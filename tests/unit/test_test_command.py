"""The test command's pytest arguments: workers and the ten slowest tests by default, and
whatever the caller passes wins."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

_RUN_PY = Path(__file__).resolve().parents[2] / "run.py"


def _run_py() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_py", _RUN_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("run_py", module)
    spec.loader.exec_module(module)
    return module


def test_by_default_the_tests_run_in_workers_and_the_slowest_are_listed() -> None:
    arguments = _run_py().pytest_arguments(["-m", "e2e"])
    assert arguments[:4] == ["-n", _run_py().TEST_WORKERS, "--dist", "worksteal"]
    assert "--durations=10" in arguments
    assert arguments[-2:] == ["-m", "e2e"]


@pytest.mark.parametrize("given", [["-n", "0"], ["-n0"], ["--numprocesses=1"], ["--dist", "no"]])
def test_workers_the_caller_chose_are_kept(given: list[str]) -> None:
    """The caller's choice is passed on as given, and no default worker argument is added."""
    arguments = _run_py().pytest_arguments([*given, "-k", "ladder"])
    assert arguments == ["--durations=10", *given, "-k", "ladder"]
