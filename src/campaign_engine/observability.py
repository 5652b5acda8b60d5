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

from campaign_engine.domain.events import TradingStateChanged
from campaign_engine.domain.vocabulary import TradingState


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
            return await super().execute_activity(input)


class CorrelationInterceptor(Interceptor):
    """Binds workflow id, activity and correlation id to every log line an activity writes."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CorrelatedActivity(next)


_trading_log = structlog.get_logger("campaign_engine.trading_state")


def report_trading_state(
    state: TradingState, change: TradingStateChanged | None, **context: str
) -> None:
    """The alert and the metric of the portfolio's trading state (its changes are in the audit
    trail already): a warning line for a change, and inside an activity the gauge
    ``campaign_trading_state`` (0 ACTIVE, 1 REDUCING, 2 HALTED) on the worker's Prometheus
    endpoint, set on every assessment, so an operator's change made through the API shows
    there at the next one."""
    if change is not None:
        _trading_log.warning(
            "trading_state_changed",
            previous=change.previous.value,
            state=change.state.value,
            reason=change.reason,
            equity=str(change.equity),
            by=change.by,
            **context,
        )
    if activity.in_activity():
        activity.metric_meter().create_gauge(
            "campaign_trading_state",
            "the portfolio's trading state: 0 ACTIVE, 1 REDUCING, 2 HALTED",
        ).set(state.gauge)
