"""Structured logging with a correlation id, and Prometheus metrics for the worker.

A log line never carries a control character raw: what a request brought (a NUL byte or a
newline in a URL path, a symbol, a reason) is written escaped (``\\x00``, ``\\n``), so that
it can neither cut a line short nor forge one. A traceback keeps its line breaks, every line of
it indented, so that none can pass for an entry of its own."""

import logging
import sys
import traceback
from collections.abc import MutableMapping
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
from campaign_engine.runtime import tracing


def escaped(text: str) -> str:
    """``text`` with every character that is not printable (C0 and C1 controls, DEL, line and
    paragraph separators, bidirectional overrides) written as its Python escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def indented_block(text: str) -> str:
    """A multi-line text (a traceback) as lines that each start indented and carry no other
    control character raw."""
    return "\n".join("    " + escaped(line) for line in text.rstrip("\n").split("\n"))


class EscapingConsoleRenderer:
    """structlog's console renderer, whose line is escaped once rendered, and an exception
    after it as an indented block."""

    def __init__(self) -> None:
        self._render = structlog.dev.ConsoleRenderer(colors=False)

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        exception = event_dict.pop("exception", None)
        exc_info = event_dict.pop("exc_info", None)
        if exc_info:
            if exc_info is True:
                exc_info = sys.exc_info()
            elif isinstance(exc_info, BaseException):
                exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
            if exc_info[0] is not None:
                exception = "".join(traceback.format_exception(*exc_info))
        line = escaped(str(self._render(logger, method, event_dict)))
        return f"{line}\n{indented_block(str(exception))}" if exception else line


class EscapingFormatter(logging.Formatter):
    """The standard library's lines (Temporal's, uvicorn's) escaped the same way."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return escaped(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:  # noqa: N802
        return indented_block(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return indented_block(super().formatStack(stack_info))


_OWN_HANDLERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def configure_logging(
    level: str = "INFO", *, json: bool = False, stream: TextIO | None = None
) -> None:
    """structlog for our lines and the standard library's (Temporal's) alike, to ``stream``
    (default: standard error)."""
    stream = stream or sys.stderr
    logging.basicConfig(format="%(message)s", stream=stream, level=level.upper(), force=True)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(EscapingFormatter("%(message)s"))
    # Every line goes through the root's escaping handler: a server configured by its own
    # defaults before (uvicorn's keeps "uvicorn" to itself) would write raw request paths.
    for name in _OWN_HANDLERS:
        own = logging.getLogger(name)
        own.handlers.clear()
        own.propagate = True
    # One line per HTTP request made by the demo or the webhook channel is noise, not news.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
    # JSON escapes control characters itself; the console's lines are escaped first.
    rendering: list[Any] = (
        [structlog.processors.JSONRenderer()] if json else [EscapingConsoleRenderer()]
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *rendering,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=True,
    )


def correlation_id_of(arg: object) -> str | None:
    """The id that ties a log line to the signal or price update behind it (while the process
    traces, the line's ``correlation_id`` is the trace's id and this is its ``subject_id``)."""
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
        subject = correlation_id_of(input.args[0]) if input.args else None
        bound: dict[str, str | None] = {
            "workflow_id": info.workflow_id,
            "activity": info.activity_type,
            "attempt": str(info.attempt),
            "correlation_id": subject,
        }
        # While tracing, the trace is the correlation (the tracing interceptor, outside this
        # one, has made the activity's span current): a line joins its trace by id, and still
        # names the signal, order or campaign it is about.
        if (trace_id := tracing.trace_id()) is not None:
            bound |= {"correlation_id": trace_id, "subject_id": subject}
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
