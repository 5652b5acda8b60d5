"""The workflow sandbox, minus a per-payload detour.

temporalio's sandboxed runner answers "which serialization context applies to this payload?"
by compiling and executing a snippet inside the sandbox, with the sandbox's import hooks
applied, for every payload sequence a workflow task encodes or decodes. Profiling put that
detour at ~5% of a campaign worker's CPU (dozens of sandbox entries per entry decision). The
answer is a read of the workflow's bookkeeping (namespace, workflow id, pending activities)
that imports nothing and runs no workflow code, so this runner asks the instance inside the
sandbox directly. Activations still run inside the sandbox as before.

It relies on one private detail of the sandbox (where it keeps its in-sandbox instance); if a
temporalio release moves it, the runner falls back to the sandbox's own, slower answer.
"""

import compileall
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import SerializationContext
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.workflow import Info

_IN_SANDBOX = "__temporal_in_sandbox"


class _ContextOutsideSandbox(WorkflowInstance):
    def __init__(self, sandboxed: WorkflowInstance) -> None:
        self._sandboxed = sandboxed
        namespace = getattr(sandboxed, "globals_and_locals", None)
        inside = namespace.get(_IN_SANDBOX) if isinstance(namespace, dict) else None
        answers = all(
            callable(getattr(inside, name, None))
            for name in ("get_serialization_context", "get_external_store_context")
        )
        self._answerer: Any = inside if answers else sandboxed

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self._sandboxed.activate(act)

    def get_serialization_context(self, command_info: Any) -> SerializationContext | None:
        context: SerializationContext | None = self._answerer.get_serialization_context(
            command_info
        )
        return context

    def get_external_store_context(self, command_info: Any) -> Any:
        return self._answerer.get_external_store_context(command_info)

    def get_info(self) -> Info:
        return self._sandboxed.get_info()

    def get_thread_id(self) -> int | None:
        return self._sandboxed.get_thread_id()


@dataclass(frozen=True)
class ContextOutsideSandboxRunner(SandboxedWorkflowRunner):
    """A SandboxedWorkflowRunner whose instances answer serialization-context questions
    without entering the sandbox."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _ContextOutsideSandbox(super().create_instance(det))


def precompile(package: ModuleType) -> None:
    """Write the bytecode of a package the sandbox re-imports for every workflow run.

    Without it (PYTHONDONTWRITEBYTECODE, a fresh checkout) every new run compiles the workflow
    modules from source again: a third of a campaign's first-entry CPU in profiles. Where the
    package cannot be written to, runs compile as before.
    """
    for folder in getattr(package, "__path__", ()):
        compileall.compile_dir(Path(folder), quiet=2, workers=1)
