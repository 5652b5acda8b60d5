"""Which message a campaign run's work is done for, so that its activities join that message's
trace (``campaign_engine.temporal.tracing``).

A handler only queues or commits; the run loop carries the work out later, in a task of its
own. So what a handler (or the price it queued) was sent under is kept with the work and made
current again while the run loop does it. While the worker does not trace, no context is ever
current here: nothing is kept, nothing attached.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    # The same module outside the sandbox and in it: one context per task, as the
    # interceptors see it.
    from opentelemetry import context as otel_context

Cause = otel_context.Context | None


def current() -> Cause:
    """What the code running now was sent under (None when nothing)."""
    context = otel_context.get_current()
    return context if context else None


@contextmanager
def resumed(cause: Cause) -> Iterator[None]:
    """The block runs under ``cause`` again (nothing to do for None)."""
    if cause is None:
        yield
        return
    token = otel_context.attach(cause)
    try:
        yield
    finally:
        otel_context.detach(token)
