"""Traces are off unless the environment names an OTLP endpoint, and then nothing is installed;
on, the Temporal clients carry the tracing interceptor and the spans reach the endpoint, the
last of them at the process's exit. A traced request's log lines carry the trace's id as
their correlation id."""

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import httpx
import pytest
import structlog
from opentelemetry import trace
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from campaign_engine.api.tracing import TracedRequests
from campaign_engine.runtime import tracing
from campaign_engine.temporal.connection import temporal_interceptors


@pytest.fixture
def untraced() -> Iterator[None]:
    tracing.stop()
    yield
    tracing.stop()


@pytest.mark.usefixtures("untraced")
def test_off_without_an_endpoint_installs_nothing() -> None:
    global_provider = trace.get_tracer_provider()

    assert tracing.start(tracing.API, environ={}) is False
    assert tracing.start(tracing.API, environ={"OTEL_EXPORTER_OTLP_ENDPOINT": ""}) is False

    assert not tracing.active()
    assert temporal_interceptors() == []
    assert trace.get_tracer_provider() is global_provider
    assert tracing.trace_id() is None and tracing.traceparent() is None
    with tracing.span("nothing", parent="00-" + "1" * 32 + "-" + "2" * 16 + "-01") as span:
        assert span is None
        assert tracing.trace_id() is None


@pytest.mark.usefixtures("untraced")
def test_in_memory_spans_and_their_traceparent() -> None:
    exporter = tracing.in_memory()
    with tracing.span("outer", server=True, attributes={"k": "v"}) as outer:
        assert outer is not None
        kept = tracing.traceparent()
        trace_id = tracing.trace_id()
    assert kept is not None and trace_id is not None and len(trace_id) == 32
    assert kept.split("-")[1] == trace_id
    with tracing.continued(kept, "later", {"n": 1}):
        assert tracing.trace_id() == trace_id  # the same trace, from the kept traceparent
    with tracing.continued(None, "never", {}):
        pass
    names = [
        (s.name, s.parent.span_id if s.parent else None) for s in exporter.get_finished_spans()
    ]
    assert names == [("outer", None), ("later", outer.get_span_context().span_id)]


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, int]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Collector.received.append((self.path, len(body)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


_ON = """
import json, sys
from opentelemetry import trace
from campaign_engine.runtime import tracing
from campaign_engine.temporal.connection import temporal_interceptors
from temporalio.contrib.opentelemetry import TracingInterceptor

on = tracing.start(tracing.WORKER)
interceptors = temporal_interceptors()
with tracing.span("work"):
    pass
provider = trace.get_tracer_provider()
tracing.stop()  # what a process does before it leaves with os._exit
print(json.dumps({
    "on": on,
    "interceptors": [isinstance(i, TracingInterceptor) for i in interceptors],
    "service": provider.resource.attributes["service.name"],
}))
"""


def test_on_with_an_endpoint_traces_through_temporal_and_exports_at_exit() -> None:
    """In a process of its own: OpenTelemetry sets the global provider once per process."""
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        done = subprocess.run(
            [sys.executable, "-c", _ON],
            env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    finally:
        server.shutdown()
    assert json.loads(done.stdout) == {
        "on": True,
        "interceptors": [True],
        "service": "campaign-engine-worker",
    }
    assert [path for path, size in _Collector.received if size > 0] == ["/v1/traces"]


@pytest.mark.usefixtures("untraced")
async def test_a_traced_request_logs_its_trace_id_as_its_correlation_id() -> None:
    exporter = tracing.in_memory()
    logged: list[dict[str, object]] = []

    async def signals(request: Request) -> JSONResponse:
        logged.append(structlog.contextvars.get_contextvars())
        return JSONResponse({}, status_code=503 if "fail" in request.query_params else 200)

    app = TracedRequests(
        Starlette(routes=[Route("/api/v1/signals", signals, methods=["POST", "GET"])]),
        prefix="/api/v1",
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        await http.post("/api/v1/signals", headers={"Authorization": "Bearer secret"})
        await http.post("/api/v1/signals?fail=1")
        await http.get("/api/v1/signals")  # not a traced route: no span, nothing bound

    first, failed = exporter.get_finished_spans()
    assert first.name == "POST /api/v1/signals" and first.context is not None
    assert first.attributes is not None and dict(first.attributes) == {
        "http.request.method": "POST",
        "http.route": "/api/v1/signals",
        "url.path": "/api/v1/signals",
        "http.response.status_code": 200,
    }
    assert not failed.status.is_ok
    assert logged[0] == {"correlation_id": trace.format_trace_id(first.context.trace_id)}
    assert logged[2] == {}
