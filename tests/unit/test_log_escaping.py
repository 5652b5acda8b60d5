"""A log line never carries a control character raw: a NUL byte or a newline that a request
brought (in a URL path, say) is written escaped, in our lines and in the standard library's,
and a traceback keeps its line breaks but every line of it indented."""

import io
import logging
from collections.abc import Iterator

import pytest
import structlog

from campaign_engine.runtime.observability import configure_logging

HOSTILE = "/api/v1/campaigns/A\x00B\n2026-12-07T00:00:00Z [error    ] forged\r\x1b[2J\u2028"


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """What the configured logging writes, as the CLI configures it; undone after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    try:
        yield stream
    finally:
        structlog.reset_defaults()
        root.handlers[:], root.level = handlers, level


def _clean(text: str) -> None:
    lines = text.split("\n")
    assert lines[-1] == ""
    for line in lines[:-1]:
        assert line.isprintable(), repr(line)
        assert not line.startswith("2026-12-07T00:00:00Z"), repr(line)  # a forged entry


def test_our_lines_escape_what_a_request_brought(written: io.StringIO) -> None:
    log = structlog.get_logger("test")
    log.warning("host_refused", path=HOSTILE, **{"key\n": HOSTILE})
    try:
        raise ValueError(HOSTILE)
    except ValueError as error:
        log.error("request_failed", path=HOSTILE, exc_info=error)
    text = written.getvalue()
    _clean(text)
    assert "A\\x00B\\n2026" in text
    first, second, *traceback = text.splitlines()
    assert "host_refused" in first and "request_failed" in second
    assert traceback and all(line.startswith("    ") for line in traceback)


def test_the_standard_librarys_lines_too(written: io.StringIO) -> None:
    logger = logging.getLogger("uvicorn.error")
    logger.warning("Invalid request %s", HOSTILE)
    try:
        raise ValueError(HOSTILE)
    except ValueError:
        logger.exception("Exception in ASGI application %s", HOSTILE)
    text = written.getvalue()
    _clean(text)
    first, second, *traceback = text.splitlines()
    assert first.startswith("Invalid request /api/v1/campaigns/A\\x00B\\n")
    assert second.startswith("Exception in ASGI application")
    assert traceback and all(line.startswith("    ") for line in traceback)


def test_json_lines_are_escaped_by_json(written: io.StringIO) -> None:
    structlog.reset_defaults()
    configure_logging("INFO", json=True, stream=written)
    structlog.get_logger("test").warning("host_refused", path=HOSTILE)
    [line] = written.getvalue().splitlines()
    assert line.isprintable() and "\\u0000" in line
