"""Structured logging with a correlation id, and Prometheus metrics for the worker."""

import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)


def configure_logging(
    level: str = "INFO", *, json: bool = False, stream: TextIO | None = None
) -> None:
    """structlog for our lines and the standard library's (Temporal's) alike, to ``stream``
    (default: standard error)."""
    stream = stream or sys.stderr
    logging.basicConfig(format="%(message)s", stream=stream, level=level.upper(), force=True)
    # One line per HTTP request made by the demo or the webhook channel is noise, not news.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=True,
    )


def correlation_id_of(arg: object) -> str | None:
    """The id that ties a log line to the signal or price update behind it."""
    for name in ("correlation_id", "signal_id", "client_order_id", "campaign_id"):
        value = getattr(arg, name, None)
        if value is not None:
            return str(value)
    events = getattr(arg, "events", None)
    if events:
        return str(events[0].correlation_id)
    state = getattr(arg, "state", None)
    return getattr(state, "campaign_id", None)


class _CorrelatedActivity(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        bound: Mapping[str, str | None] = {
            "workflow_id": info.workflow_id,
            "activity": info.activity_type,
            "attempt": str(info.attempt),
            "correlation_id": correlation_id_of(input.args[0]) if input.args else None,
        }
        with structlog.contextvars.bound_contextvars(**bound):
            try:
                return await super().execute_activity(input)
            except Exception as error:
                _report_long_retry(info, error)
                raise


RETRY_REPORT_ATTEMPT = 10
"""From this attempt on, a failing activity is reported: its retries never give up (a change
must not be lost while the database or broker is down), so one that keeps failing is news."""
RETRIES_PAST_BOUND = "campaign_activity_retries_past_bound"


def _report_long_retry(info: activity.Info, error: Exception) -> None:
    """Log and count an attempt past the bound: every attempt from the 10th to the 20th, then
    every 10th, so an outage of hours stays a few lines a minute at the 30 s retry cap."""
    attempt = info.attempt
    if attempt < RETRY_REPORT_ATTEMPT or (attempt > 2 * RETRY_REPORT_ATTEMPT and attempt % 10):
        return
    structlog.get_logger("campaign_engine.retries").warning(
        "activity_still_failing",
        attempts=attempt,
        error=f"{type(error).__name__}: {str(error)[:300]}",
    )
    activity.metric_meter().create_counter(
        RETRIES_PAST_BOUND, "activity attempts that failed past the retry report bound"
    ).add(1)


class CorrelationInterceptor(Interceptor):
    """Binds workflow id, activity and correlation id to every log line an activity writes."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CorrelatedActivity(next)
