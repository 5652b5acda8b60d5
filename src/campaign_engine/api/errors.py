"""Errors as readable JSON: ``{"detail": "..."}``, or for invalid input FastAPI's list with
one entry per bad field (``loc``, ``msg``, ``type``, and the value when it is a scalar, quoted
short). What the input caused is a 4xx, never a 500: a value the arithmetic cannot hold
(OverflowError, e.g. a time that leaves the calendar once made UTC) is bad input too."""

from http import HTTPStatus

import psycopg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from temporalio.service import RPCError

from campaign_engine.api.bounded import RETRY_AFTER
from campaign_engine.api.schemas import BRANCH_TAGS
from campaign_engine.db.repository import PortfolioNotInitialised
from campaign_engine.formats.validation_errors import MESSAGE, quoted, readable_errors

log = structlog.get_logger("campaign_engine.api")

_RETRY = {"Retry-After": str(RETRY_AFTER)}  # every 503 says when to try again


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return JSONResponse(
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        content={"detail": readable_errors(error.errors(), hidden=BRANCH_TAGS)},
    )


async def _temporal_down(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RPCError)
    log.warning("temporal_unavailable", path=request.url.path, error=str(error))
    return JSONResponse(
        status_code=HTTPStatus.SERVICE_UNAVAILABLE,
        content={"detail": f"Temporal is unavailable: {error.message or error}"},
        headers=_RETRY,
    )


async def _runtime(request: Request, error: Exception) -> JSONResponse:
    # temporalio reports a Temporal it cannot connect to as a RuntimeError.
    if "client connect" in str(error):
        log.warning("temporal_unavailable", path=request.url.path, error=str(error))
        return JSONResponse(
            status_code=HTTPStatus.SERVICE_UNAVAILABLE,
            content={"detail": f"Temporal is unavailable: {error}"},
            headers=_RETRY,
        )
    log.error("request_failed", path=request.url.path, exc_info=error)
    return JSONResponse(
        status_code=HTTPStatus.INTERNAL_SERVER_ERROR, content={"detail": "internal server error"}
    )


def _reason(error: Exception) -> str:
    """The first line of why, short: the database's message may quote the refused value."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return quoted(lines[0] if lines else type(error).__name__, MESSAGE)


async def _out_of_range(request: Request, error: Exception) -> JSONResponse:
    # The schemas' validators say which field (they raise ValueError); this is the net below.
    log.warning("input_out_of_range", path=request.url.path, error=_reason(error))
    return JSONResponse(
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        content={"detail": f"invalid input: a value is out of range ({_reason(error)})"},
    )


def _bad_data(error: Exception) -> bool:
    """The database refused a value (out of range, malformed): the request's fault, not an
    outage. The schema's bounds should catch such values first; this is the net below them."""
    return isinstance(error, psycopg.DataError) or isinstance(
        getattr(error, "orig", None), psycopg.DataError
    )


async def _database_down(request: Request, error: Exception) -> JSONResponse:
    if _bad_data(error):
        log.warning("database_refused_input", path=request.url.path, error=_reason(error))
        return JSONResponse(
            status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
            content={"detail": f"invalid input: {_reason(error)}"},
        )
    log.warning("database_unavailable", path=request.url.path, error=str(error))
    reason = _reason(error)
    return JSONResponse(
        status_code=HTTPStatus.SERVICE_UNAVAILABLE,
        content={"detail": f"the database is unavailable: {reason}"},
        headers=_RETRY,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(RPCError, _temporal_down)
    app.add_exception_handler(RuntimeError, _runtime)
    app.add_exception_handler(DBAPIError, _database_down)
    # The hot-path statements run on psycopg's connection directly (db/statements.py).
    app.add_exception_handler(psycopg.Error, _database_down)
    app.add_exception_handler(PortfolioNotInitialised, _database_down)
