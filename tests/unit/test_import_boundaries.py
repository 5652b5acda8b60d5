"""The edges load what they use and no more: the REST API and the CLI reach the database
through ``campaign_engine.db``, never through the worker, so they do not load the workflow,
its sandbox or the activities. Checked in a fresh interpreter, where nothing is imported yet."""

import json
import subprocess
import sys

import pytest

# The client starts workflows with the search attributes of workflows.details (names and
# values, no workflow code); the package around it is only a docstring.
_ALLOWED_WORKFLOW_MODULES = {"campaign_engine.workflows", "campaign_engine.workflows.details"}


def _loaded_after_importing(*modules: str) -> set[str]:
    script = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('campaign_engine'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout))


@pytest.mark.parametrize(
    "modules",
    [
        ("campaign_engine.api", "campaign_engine.api.app"),
        ("campaign_engine.cli", "campaign_engine.db.bootstrap", "campaign_engine.db.read_model"),
    ],
    ids=["api", "cli"],
)
def test_the_api_and_the_cli_do_not_load_the_worker_or_the_workflow(
    modules: tuple[str, ...],
) -> None:
    loaded = _loaded_after_importing(*modules)
    assert set(modules) <= loaded
    workflow_side = {
        m
        for m in loaded
        if m.startswith(("campaign_engine.workflows", "campaign_engine.activities"))
        or m in {"campaign_engine.worker", "campaign_engine.temporal.sandbox"}
    }
    assert workflow_side <= _ALLOWED_WORKFLOW_MODULES, workflow_side
