"""Session-wide test settings, and the tiers: a test's folder says what it needs.

- ``tests/unit``: pure, no I/O (marker ``unit``);
- ``tests/integration``: PostgreSQL only (marker ``integration``);
- ``tests/workflow``: the campaign workflow on the Temporal dev server, its activities faked in
  memory, no PostgreSQL (marker ``workflow``);
- ``tests/e2e``: the Temporal dev server and PostgreSQL (marker ``e2e``);
- ``tests/replay``: recorded workflow histories replayed with today's code (marker ``replay``);
- ``tests/browser``: the dashboard in Debian's chromium over the e2e stack (marker ``browser``);
- ``tests/packaging``: the requirements resolve as wheels on every supported Python and
  platform; needs the package index (marker ``packaging``).

``tests/support`` holds what the tiers share: builders, the stack harness, PostgreSQL fixtures,
the session's Temporal dev server.
"""

import os
import sys
from pathlib import Path

import pytest

from tests.support.long_first import dealt

pytest_plugins = [
    "tests.support.postgres",
    "tests.support.temporal_server",
    "tests.support.dev_stack",
]

_HERE = Path(__file__).resolve().parent
_TIERS = ("unit", "integration", "workflow", "e2e", "replay", "browser", "packaging")
_exit_status = 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier, so ``-m e2e`` or ``-m "not e2e"`` selects by need; in
    workers, deal the long tests out so each worker starts on its share of them
    (tests/support/long_first.py). Every worker collects, and orders, the same way."""
    for item in items:
        relative = item.path.resolve().relative_to(_HERE)
        tier = relative.parts[0]
        if tier in _TIERS:
            item.add_marker(getattr(pytest.mark, tier))
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    seconds = [_long_seconds(item) for item in items]
    items[:] = dealt(items, seconds, workers)


def _long_seconds(item: pytest.Item) -> float:
    marker = item.get_closest_marker("long")
    return float(marker.kwargs["seconds"]) if marker is not None else 0.0


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
