"""Traces over the whole stack (the API under a real uvicorn, the worker, Temporal, PostgreSQL),
all in this process so that one in-memory exporter sees every span: an entry posted to the API
is one trace from the request to the broker, and so is a price posted to the API down to the
exit it causes."""

import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from sqlalchemy import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from campaign_engine.db.schema import price_intake
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.runtime import tracing
from campaign_engine.runtime.settings import Settings
from campaign_engine.temporal.connection import temporal_interceptors
from campaign_engine.testing.builders import signal
from tests.e2e.api_fixtures import CAMPAIGN, V1, api_client, ok, submit, tick_now
from tests.support.harness import Stack, eventually, running_stack, settled


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = tracing.in_memory()
    try:
        yield exporter
    finally:
        tracing.stop()


@pytest.fixture
async def traced_stack(
    spans: InMemorySpanExporter, temporal: WorkflowEnvironment, database_url: str
) -> AsyncIterator[Stack]:
    """The e2e stack on a client made as ``connect`` makes one while the process traces: the
    worker built on it traces too."""
    config = temporal.client.config()
    config["interceptors"] = temporal_interceptors()
    client = Client(**config)
    settings = Settings(
        database_url=database_url,
        task_queue=f"campaigns-{uuid.uuid4().hex[:8]}",
        metrics_port=None,
        account_equity=Decimal("100000"),
    )
    async with running_stack(client, database_url, settings) as stack:
        yield stack


@pytest.fixture
async def traced_api(traced_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(traced_stack.settings, traced_stack.client, traced_stack.engine) as http:
        yield http


def _request_span(spans: InMemorySpanExporter, name: str) -> ReadableSpan:
    (found,) = [s for s in spans.get_finished_spans() if s.name == name]
    assert found.kind is SpanKind.SERVER and found.parent is None
    return found


def _in_trace(spans: InMemorySpanExporter, root: ReadableSpan) -> list[ReadableSpan]:
    assert root.context is not None
    trace_id = root.context.trace_id
    return [s for s in spans.get_finished_spans() if s.context and s.context.trace_id == trace_id]


async def _names_in_trace(
    spans: InMemorySpanExporter, root: ReadableSpan, wanted: set[str]
) -> list[ReadableSpan]:
    """The trace's spans once every name in ``wanted`` has ended in it."""

    async def complete() -> bool:
        return wanted <= {s.name for s in _in_trace(spans, root)}

    try:
        await eventually(complete)
    except AssertionError:
        seen = sorted(s.name for s in _in_trace(spans, root))
        raise AssertionError(f"{sorted(wanted)} not all in the trace: {seen}") from None
    return _in_trace(spans, root)


def _all_under(request: ReadableSpan, trace: list[ReadableSpan]) -> None:
    """Every span of the trace descends from the request's, none from elsewhere."""
    by_id = {s.context.span_id: s for s in trace if s.context is not None}
    for span in trace:
        top = span
        while top.parent is not None:
            top = by_id[top.parent.span_id]
        assert top is request, f"{span.name} is not under the request"


def _submits(trace: list[ReadableSpan], side: str) -> list[ReadableSpan]:
    return [
        s
        for s in trace
        if s.name == "broker submit" and s.attributes and s.attributes["order.side"] == side
    ]


async def test_an_entry_is_one_trace_from_the_request_to_the_broker(
    spans: InMemorySpanExporter, traced_stack: Stack, traced_api: httpx.AsyncClient
) -> None:
    await submit(traced_api, signal(Pattern.SPRING))
    await settled(traced_stack, CAMPAIGN, 2)  # approved, filled

    request = _request_span(spans, f"POST {V1}/signals")
    assert request.attributes is not None
    assert dict(request.attributes) == {
        "http.request.method": "POST",
        "http.route": f"{V1}/signals",
        "url.path": f"{V1}/signals",
        "http.response.status_code": 200,
    }
    trace = await _names_in_trace(
        spans,
        request,
        {
            "StartUpdateWithStartWorkflow:CampaignWorkflow",
            "HandleUpdate:submit_signal",
            "RunActivity:load_and_reserve",
            "RunActivity:carry_out",
            "save",
            "broker submit",
        },
    )
    _all_under(request, trace)
    (entry,) = _submits(trace, "BUY")
    assert entry.attributes is not None and entry.attributes["order.purpose"] == "ENTRY"


async def test_a_price_is_one_trace_down_to_the_exit_it_causes(
    spans: InMemorySpanExporter, traced_stack: Stack, traced_api: httpx.AsyncClient
) -> None:
    await submit(traced_api, signal(Pattern.SPRING))  # 333 shares at 148.50, stop 147.00
    await settled(traced_stack, CAMPAIGN, 2)

    # Below the stop and the Spring's low: the range is invalidated, the position sold.
    await ok(await traced_api.post(f"{V1}/prices", json=tick_now("146.00")), 202)
    request = _request_span(spans, f"POST {V1}/prices")
    trace = await _names_in_trace(
        spans,
        request,
        {"PriceFeed:send", "SignalWorkflow:price_update", "HandleSignal:price_update", "save"},
    )

    async def sold() -> bool:
        return bool(_submits(_in_trace(spans, request), "SELL"))

    await eventually(sold)
    trace = _in_trace(spans, request)
    _all_under(request, trace)
    (exit_order,) = _submits(trace, "SELL")
    assert exit_order.attributes is not None
    assert exit_order.attributes["order.purpose"] == "INVALIDATION"
    # The row the request appended kept its trace for the publisher, as W3C says it.
    async with traced_stack.engine.connect() as conn:
        (kept,) = (await conn.execute(select(price_intake.c.traceparent))).scalars()
    assert request.context is not None
    made = request.context
    assert kept == (
        f"00-{format_trace_id(made.trace_id)}-{format_span_id(made.span_id)}-{made.trace_flags:02x}"
    )
    assert "HandleUpdate:submit_signal" not in {s.name for s in trace}  # the entry's own trace
