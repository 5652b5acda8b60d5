"""Session-wide test settings."""

import os
import sys

import pytest

_exit_status = 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # temporalio can abort the interpreter while it finalizes (sdk-python#300); once pytest
    # has reported, leave with its verdict rather than the abort's.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status)
