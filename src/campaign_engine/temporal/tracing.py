"""Traces through Temporal: the interceptors a client (and the workers made on it) carry while
the process traces (``campaign_engine.runtime.tracing``), none otherwise.

temporalio's ``TracingInterceptor`` carries the caller's span in each call's headers: the
client's calls are children of the span current where they are made (an API request's), an
activity's span a child of the workflow's. Inside a workflow it puts everything under the
trace of the call that *started* the run and merely links each later signal or update to its
sender. A campaign lives for weeks; its entries and prices come from many requests. So here a
signal or an update with a sender's span is handled under that span: the request that sent an
SOS, or the price bar that crossed a stop, has the workflow's handling of it in its own trace,
and the run carries that context on to the activities the handling causes
(``workflows/trace_context.py``). Replay creates no spans (the SDK's rule): the contexts come
from the message headers in the history, the same on every replay.

It builds on three of the SDK's private helpers (``_completed_span``, ``_set_on_context``,
``attached_context``, which detaches safely in a workflow evicted mid-handler); temporalio is
bounded below 2, and the e2e tests of traces exercise all three.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import opentelemetry.context
import opentelemetry.trace
from temporalio.api.common.v1 import Payload
from temporalio.client import Interceptor as ClientInterceptor
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.contrib.opentelemetry._context import attached_context
from temporalio.worker import HandleSignalInput, HandleUpdateInput, WorkflowInterceptorClassInput

from campaign_engine.runtime import tracing


def interceptors() -> list[ClientInterceptor]:
    """What a client (and every worker on it) intercepts with: tracing while this process
    traces, nothing otherwise."""
    if not tracing.active():
        return []
    return [MessageTracing(tracing.tracer())]


class MessageTracing(TracingInterceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span maker it calls
        return _TracedByMessage


class _TracedByMessage(TracingWorkflowInboundInterceptor):
    """Each signal and update handled under its sender's span, when it has one."""

    async def handle_signal(self, input: HandleSignalInput) -> None:
        with self._sent_by(input.headers, f"HandleSignal:{input.signal}") as sent:
            if sent:
                return await self.next.handle_signal(input)
        return await super().handle_signal(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        with self._sent_by(input.headers, f"ValidateUpdate:{input.update}") as sent:
            if sent:
                return self.next.handle_update_validator(input)
        return super().handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        with self._sent_by(input.headers, f"HandleUpdate:{input.update}") as sent:
            if sent:
                return await self.next.handle_update_handler(input)
        return await super().handle_update_handler(input)

    @contextmanager
    def _sent_by(self, headers: Mapping[str, Payload], span_name: str) -> Iterator[bool]:
        """Inside: the sender's span current and the handling's span made under it (True),
        or nothing done when the message came without one (False)."""
        header = headers.get(self.header_key)
        carrier = self.payload_converter.from_payloads([header])[0] if header else None
        context = self.text_map_propagator.extract(carrier) if carrier else None
        if context is None or not _has_span(context):
            yield False
            return
        with attached_context(self._set_on_context(context)):
            self._completed_span(span_name, kind=opentelemetry.trace.SpanKind.SERVER)
            yield True


def _has_span(context: opentelemetry.context.Context) -> bool:
    return opentelemetry.trace.get_current_span(context).get_span_context().is_valid
