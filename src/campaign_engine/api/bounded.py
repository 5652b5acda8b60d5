"""Every mutation answers within ``Settings.mutation_timeout``: with its decision, or with 503,
``Retry-After`` and what is down.

A signal or command the API has handed to Temporal is not withdrawn when the answer times out:
its workflow goes on with it (waiting out the database, say) and decides it once it can. So a
503 here says "pending", not "refused": a signal retried with the same ``signal_id`` gets the
decision once there is one (the update is keyed by the signal id, and a campaign answers a
signal id it has decided with its first decision).
"""

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from http import HTTPStatus
from typing import Any, TypeVar

import structlog
from fastapi import HTTPException
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

from campaign_engine.api.services import Services

log = structlog.get_logger("campaign_engine.api")

T = TypeVar("T")

PROBE_TIMEOUT = 1.0  # seconds to ask each dependency whether it is up, once a bound is hit
RETRY_AFTER = 5  # seconds: what a 503 asks callers to wait before retrying


def unavailable(detail: str) -> HTTPException:
    return HTTPException(
        HTTPStatus.SERVICE_UNAVAILABLE, detail, headers={"Retry-After": str(RETRY_AFTER)}
    )


async def what_is_down(services: Services) -> str:
    """Temporal, the database, or (both up) the worker that decides: the likeliest reason a
    decision did not come in time."""

    async def temporal() -> str | None:
        try:
            # The RPC's own timeout does not cover connecting: bound the whole probe.
            serving = await asyncio.wait_for(
                services.client.temporal.service_client.check_health(
                    timeout=timedelta(seconds=PROBE_TIMEOUT)
                ),
                PROBE_TIMEOUT,
            )
        except TimeoutError:
            return f"Temporal does not answer within {PROBE_TIMEOUT:g} s"
        except Exception as error:
            return f"Temporal is unreachable ({_first_line(error)})"
        return None if serving else "Temporal is not serving"

    async def database() -> str | None:
        try:
            await asyncio.wait_for(services.read_model.ping(), PROBE_TIMEOUT)
        except TimeoutError:
            return f"the database does not answer within {PROBE_TIMEOUT:g} s"
        except Exception as error:
            return f"the database is unavailable ({_first_line(error)})"
        return None

    down = [d for d in await asyncio.gather(temporal(), database()) if d is not None]
    return "; ".join(down) or "no worker has decided it yet (is the worker running?)"


def _forget(task: "asyncio.Future[Any]") -> None:
    if not task.cancelled():
        task.exception()  # retrieved: the answer was given without it


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


async def within_bound(services: Services, work: Coroutine[Any, Any, T], *, pending: str) -> T:
    """``work``'s result, or 503 once ``mutation_timeout`` has passed. ``pending`` tells the
    caller what became of the request (e.g. how to get the decision later)."""
    bound = services.settings.mutation_timeout
    task = asyncio.ensure_future(work)
    try:
        # Not asyncio.timeout: the Temporal client turns the cancellation of a wait for an
        # update into an error of its own, which a timeout context would let through.
        done, _ = await asyncio.wait({task}, timeout=bound)
        if task in done:
            try:
                return task.result()
            except WorkflowUpdateRPCTimeoutOrCancelledError:
                pass  # Temporal's own wait for the update ran out first: pending all the same
    finally:
        if not task.done():
            # Not awaited: a client still connecting may take its time to wind down.
            task.cancel()
            task.add_done_callback(_forget)
    down = await what_is_down(services)
    log.warning("mutation_timed_out", bound=bound, down=down, pending=pending)
    raise unavailable(f"no answer within {bound:g} s: {down}. {pending}")
