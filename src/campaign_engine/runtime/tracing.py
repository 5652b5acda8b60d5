"""Traces (OpenTelemetry): on when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, off otherwise.

On, a process's spans go over OTLP/HTTP to that endpoint (an OpenTelemetry Collector, Jaeger's
OTLP port), batched, named by the process's service (``campaign-engine-api``, ``-worker``,
``-cli``). Off, nothing is installed: no tracer provider, no Temporal interceptor, no API
middleware, and the OpenTelemetry SDK is not even imported, so a process that does not trace
pays nothing for the possibility (OpenTelemetry's modules are imported only when on: the API
alone takes some 45 ms to import).

What traces share goes through here: the provider this process traces with (``tracer``), the
current trace's id (the log lines' ``correlation_id`` while tracing is on), the W3C
``traceparent`` that carries a trace across the durable price intake, and the spans that
continue one. The Temporal interceptors that carry a trace through workflows and activities:
``campaign_engine.temporal.tracing``.
"""

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Span, Tracer

API = "campaign-engine-api"
WORKER = "campaign-engine-worker"
CLI = "campaign-engine-cli"
FLUSH_MILLIS = 3_000
"""At exit, how long the spans not yet exported may take: a collector that is down must not
hold a stopping process (the dev stack promises a stop within 30 s)."""

_provider: "TracerProvider | None" = None


def active() -> bool:
    """Whether this process traces."""
    return _provider is not None


def start(service: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Trace as ``service`` when the environment names an endpoint; whether it now does. A
    process that traces already keeps its provider (the CLI starts the worker's ``main``)."""
    if _provider is not None:
        return True
    if not environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = _provider_for(service)
    # The exporter reads the endpoint (and OTEL_EXPORTER_OTLP_HEADERS, for a token) itself.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    use(provider)
    from opentelemetry import trace

    # Globally too, so that a library traced on its own joins the same traces.
    trace.set_tracer_provider(provider)
    return True


def in_memory(service: str = "campaign-engine-test") -> "InMemorySpanExporter":
    """Trace into memory, every span kept as it ends (tests). The global provider is left
    alone: OpenTelemetry lets a process set it once."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = _provider_for(service)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    use(provider)
    return exporter


def use(provider: "TracerProvider | None") -> None:
    """Trace with ``provider`` from now on (None: stop tracing, without flushing)."""
    global _provider
    _provider = provider


def stop() -> None:
    """Export what is left (within ``FLUSH_MILLIS``) and stop tracing: before a process
    leaves with ``os._exit``, which runs no exit handler."""
    global _provider
    provider, _provider = _provider, None
    if provider is not None:
        provider.force_flush(FLUSH_MILLIS)
        provider.shutdown()


def _provider_for(service: str) -> "TracerProvider":
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider

    return TracerProvider(resource=Resource.create({SERVICE_NAME: service}))


def tracer() -> "Tracer":
    """This process's tracer; a no-op one while it does not trace."""
    from opentelemetry import trace

    if _provider is None:
        return trace.NoOpTracer()
    return _provider.get_tracer("campaign_engine")


def trace_id() -> str | None:
    """The current trace's id (32 hex digits) while tracing, else None."""
    if _provider is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None


def traceparent() -> str | None:
    """The current span as a W3C ``traceparent``, to continue the trace elsewhere later."""
    if _provider is None:
        return None
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


@contextlib.contextmanager
def span(
    name: str,
    *,
    parent: str | None = None,
    server: bool = False,
    attributes: Mapping[str, str | int] | None = None,
) -> "Iterator[Span | None]":
    """A span around the block (yielded, for what is known at its end), current inside it,
    child of the current span or, when given, of the ``traceparent`` ``parent``; ``server``:
    the span of a request served. Nothing (None) while this process does not trace."""
    if _provider is None:
        yield None
        return
    from opentelemetry import context as otel_context
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind

    kind = SpanKind.SERVER if server else SpanKind.INTERNAL
    context = extract({"traceparent": parent}) if parent else None
    token = otel_context.attach(context) if context is not None else None
    try:
        with tracer().start_as_current_span(name, kind=kind, attributes=attributes) as made:
            yield made
    finally:
        if token is not None:
            otel_context.detach(token)


@contextlib.contextmanager
def continued(parent: str | None, name: str, attributes: Mapping[str, str | int]) -> Iterator[None]:
    """The block in a span of the trace ``parent`` names (a ``traceparent`` kept earlier);
    nothing without one, or while this process does not trace."""
    if parent is None or _provider is None:
        yield
        return
    with span(name, parent=parent, attributes=attributes):
        yield
