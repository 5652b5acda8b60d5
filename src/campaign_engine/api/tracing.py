"""The server spans of the API's commands, installed only while the process traces.

``POST /signals``, ``POST /signals/batch`` and ``POST /prices`` each get a span named for the
route, around everything the request does: the Temporal calls made inside it (an entry's
workflow update) are its children, and with them the workflow's handling and its activities,
so one trace runs from the request to the broker. A caller's W3C ``traceparent`` is
continued. The span's attributes are the method, the route and the status (nothing from the
body or the headers: no token, no signal). The request's log lines carry the trace's id as
their ``correlation_id``.
"""

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campaign_engine.runtime import tracing

TRACED = ("/signals", "/signals/batch", "/prices")


class TracedRequests:
    """ASGI middleware: a server span for each request to one of the ``TRACED`` routes."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self._routes = frozenset(prefix + route for route in TRACED)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "POST" or path not in self._routes:
            await self.app(scope, receive, send)
            return
        name = f"POST {path}"
        parent = _header(scope, b"traceparent")
        attributes = {"http.request.method": "POST", "http.route": path, "url.path": path}
        with tracing.span(name, parent=parent, server=True, attributes=attributes) as span:

            async def sending(message: Message) -> None:
                if span is not None and message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        from opentelemetry.trace import StatusCode

                        span.set_status(StatusCode.ERROR)
                await send(message)

            with structlog.contextvars.bound_contextvars(correlation_id=tracing.trace_id()):
                await self.app(scope, receive, sending)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            text: str = value.decode("latin-1")
            return text
    return None
