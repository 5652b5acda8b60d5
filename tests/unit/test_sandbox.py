"""The campaign sandbox answers serialization-context questions as the stock sandbox does,
without entering it, and falls back to the stock answer if temporalio's internals move."""

import dataclasses
from typing import Any

from temporalio import workflow
from temporalio.api.common.v1 import Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.converter import WorkflowSerializationContext
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox._runner import _fake_info

from campaign_engine.temporal.converter import data_converter
from campaign_engine.temporal.sandbox import _ContextOutsideSandbox
from campaign_engine.worker import workflow_runner
from campaign_engine.workflows.campaign import CampaignWorkflow

INFO = dataclasses.replace(_fake_info, namespace="trading", workflow_id="campaign-AAPL-1")


def _details() -> WorkflowInstanceDetails:
    defn = workflow._Definition.must_from_class(CampaignWorkflow)
    return WorkflowInstanceDetails(
        payload_converter_factory=data_converter._new_payload_converter,
        failure_converter_class=data_converter.failure_converter_class,
        interceptor_classes=[],
        defn=defn,
        info=INFO,
        randomness_seed=1,
        extern_functions={},
        disable_eager_activity_execution=False,
        worker_level_failure_exception_types=[],
        patch_activation_callback=None,
        last_completion_result=Payloads(),
        last_failure=Failure(),
    )


async def test_answers_from_outside_equal_the_sandboxes_own() -> None:
    instance = workflow_runner().create_instance(_details())
    assert isinstance(instance, _ContextOutsideSandbox)
    stock: Any = instance._sandboxed
    assert instance._answerer is not stock  # the fast path is taken
    ours = instance.get_serialization_context(None)
    assert ours == stock.get_serialization_context(None)
    assert ours == WorkflowSerializationContext(namespace="trading", workflow_id="campaign-AAPL-1")
    assert instance.get_info() == INFO


class _Opaque(WorkflowInstance):
    """A sandboxed instance whose internals this runner does not know."""

    def activate(self, act: Any) -> Any:
        raise NotImplementedError

    def get_serialization_context(self, command_info: Any) -> Any:
        return "stock answer"

    def get_external_store_context(self, command_info: Any) -> Any:
        return "stock store"

    def get_info(self) -> Any:
        return INFO


def test_unknown_internals_fall_back_to_the_stock_answer() -> None:
    instance: Any = _ContextOutsideSandbox(_Opaque())
    assert instance.get_serialization_context(None) == "stock answer"
    assert instance.get_external_store_context(None) == "stock store"
