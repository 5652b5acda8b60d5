"""``/api/v1/ws``: the audit trail pushed as it is written, with the campaigns and the portfolio
it changed.

Messages are JSON objects with a ``type``:

- ``hello``: ``cursor``, where this stream starts (the events after it follow);
- ``event``: one audit trail entry, as ``GET /campaigns/{id}/events`` shows it (``event_id``,
  ``event_type``, ``campaign_id``, ``version``, ``occurred_at``, ``correlation_id``, ``data``
  with its ``kind``, ``recorded_at``) and its ``cursor``;
- ``campaign``: after a run of events, each campaign they touched as ``GET /campaigns/{id}``
  answers it from the read model, with its ``mark``;
- ``portfolio``: then the portfolio as ``GET /portfolio`` answers it, and whenever marks move
  its marked equity;
- ``mark``: a campaign that holds shares marked to market after prices were accepted for its
  symbol (``campaign_id``, ``version``, ``last_price``, ``as_of``, ``unrealized_pnl``,
  ``total_pnl``, ``r_multiple``: the ``mark`` of ``GET /campaigns`` rows), at most every
  ``MARK_EVERY`` seconds per campaign, newest only; a mark carries no cursor and is not
  replayed (a client that resumes reads the list again for the marks of now);
- ``heartbeat``: every ``HEARTBEAT`` seconds without news, with the current ``cursor``.

A client resumes with ``?after=<event_id>`` (the last event it saw, percent-encoded: an id holds
``+``, ``:``, ``@``, ``#`` and ``/``) or ``?cursor=<cursor>`` (of an event, or of a hello or
heartbeat; ``<txid>.<seq>``, safe in a URL as it is) and gets every event after it once, in order:
what it missed, then what comes. With neither it starts at the newest event. With ``API_TOKEN`` set,
the token goes as ``?token=`` or, from a browser, as a subprotocol ``bearer.<token>`` offered beside
``campaigns.v1``; it is never logged. Closing codes: 4400 a malformed parameter (a cursor that is
not one, an event id or cursor too long or with control characters), 4401 a missing or wrong token,
4404 an event id the trail does not hold, 1013 (try again later) the database cannot be reached. The
parameters are checked here, after the handshake, so that each bad one gets its code (checked by
FastAPI, before it, the handshake was refused with HTTP 403 whatever was wrong).
"""

import asyncio
import contextlib
from secrets import compare_digest
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from sqlalchemy.exc import SQLAlchemyError
from starlette.websockets import WebSocketState

from campaign_engine.api.live.hub import EventHub, Seen
from campaign_engine.db.event_stream import Cursor, StreamedEvent

router = APIRouter(tags=["live"])
log = structlog.get_logger("campaign_engine.api.live")

HEARTBEAT = 10.0  # seconds
STARTING = 10.0  # seconds a socket waits for a hub that has not reached the database yet
PROTOCOL = "campaigns.v1"
TOKEN_PROTOCOL = "bearer."  # noqa: S105 - a prefix, not a secret

BAD_CURSOR, UNAUTHORIZED, UNKNOWN_EVENT, UNAVAILABLE = 4400, 4401, 4404, 1013
MAX_EVENT_ID = 256  # the trail's column
# Event ids are not URL-safe as they are (a price's: ``AAPL-2024-10-15:v3:price:AAPL@2024-10-15T
# 14:30:00+00:00#7:0``): a ``+`` sent raw arrives as a space, a ``#`` ends the URL. Cursors are.
UNKNOWN_EVENT_REASON = (
    "no event with this id: percent-encode it (ids hold + : @ # /), or resume by cursor"
)
MAX_CURSOR = 64
MAX_TOKEN = 512
_BIGINT = 2**63  # a cursor's parts are PostgreSQL bigints


def _close_reason(text: str) -> str:
    """``text`` cut to what a close frame holds (123 bytes of UTF-8)."""
    return text.encode()[:123].decode(errors="ignore")


def _offered_token(websocket: WebSocket, token: str | None) -> str | None:
    if token:
        return token
    for offered in websocket.scope.get("subprotocols", []):
        if offered.startswith(TOKEN_PROTOCOL):
            return str(offered[len(TOKEN_PROTOCOL) :])
    return None


def _authorized(expected: str | None, given: str | None) -> bool:
    if not expected:
        return True
    if given is None or len(given) > MAX_TOKEN:
        return False
    return compare_digest(given.encode(), expected.encode())


async def _start(
    websocket: WebSocket, hub: EventHub, after: str | None, cursor: str | None
) -> Cursor | None:
    """Where the client's stream starts, or None once the socket is closed with the reason."""
    if cursor is not None:
        try:
            if len(cursor) > MAX_CURSOR:
                raise ValueError(f"cursor must be <txid>.<seq>, at most {MAX_CURSOR} characters")
            parsed = Cursor.parse(cursor)
            if max(parsed) >= _BIGINT:
                raise ValueError("cursor out of range")
            return parsed
        except ValueError as error:
            await websocket.close(BAD_CURSOR, _close_reason(str(error)))
            return None
    if after is not None:
        if len(after) > MAX_EVENT_ID or not after.isprintable():
            reason = f"after must be an event id: at most {MAX_EVENT_ID} printable characters"
            await websocket.close(BAD_CURSOR, reason)
            return None
        found = await hub.stream.position_of(after)
        if found is None:
            await websocket.close(UNKNOWN_EVENT, UNKNOWN_EVENT_REASON)
        return found
    return hub.head


@router.websocket("/ws")
async def live_events(
    websocket: WebSocket,
    after: Annotated[str | None, Query()] = None,
    cursor: Annotated[str | None, Query()] = None,
    token: Annotated[str | None, Query()] = None,
) -> None:
    hub: EventHub = websocket.app.state.hub
    expected = websocket.app.state.services.settings.bearer_token
    offered = websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
    if not _authorized(expected, _offered_token(websocket, token)):
        await websocket.close(UNAUTHORIZED, "missing or invalid API token")
        return
    if not await hub.started(STARTING):
        await websocket.close(UNAVAILABLE, "the database is unavailable; try again")
        return
    closed = asyncio.create_task(_until_closed(websocket))
    try:
        position = await _start(websocket, hub, after, cursor)
        if position is None:
            return
        async with hub.attached():
            await websocket.send_json({"type": "hello", "cursor": str(position)})
            await _stream(websocket, hub, position, closed)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away while we were sending
    except SQLAlchemyError as error:  # reading from the table: the client comes back later
        log.warning("live_socket_database_error", error=f"{type(error).__name__}: {error}")
        with contextlib.suppress(RuntimeError, OSError):
            await websocket.close(UNAVAILABLE, "the database is unavailable; try again")
    finally:
        closed.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closed
        if websocket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, OSError):
                await websocket.close()


async def _stream(
    websocket: WebSocket, hub: EventHub, position: Cursor, closed: "asyncio.Task[None]"
) -> None:
    # Marks and the portfolio as they stand are in what the client has just read.
    seen = Seen(position, hub.marks.seq, hub.portfolio_seq, position)
    while not closed.done():
        events = await hub.after(seen.cursor)
        for event in events:
            await websocket.send_json(event_message(event))
        if events:
            seen.cursor = events[-1].cursor
            for campaign in await hub.campaigns([e.campaign_id for e in events]):
                await websocket.send_json({"type": "campaign", "campaign": campaign})
        marks, seen.marks = hub.marks.since(seen.marks)
        for mark in marks:
            await websocket.send_json(mark)
        # The portfolio when it changed, and after a run of events once one read after them
        # is in hand (read at most every 0.5 s, the one in hand may predate these events).
        if hub.portfolio is not None and (
            hub.portfolio_seq > seen.portfolio or hub.owes_portfolio(seen)
        ):
            seen.portfolio, seen.portfolio_after = hub.portfolio_seq, hub.portfolio_after
            await websocket.send_json({"type": "portfolio", "portfolio": hub.portfolio})
        if events or marks:
            continue
        waiting = asyncio.create_task(hub.wait_beyond(seen, HEARTBEAT))
        await asyncio.wait({waiting, closed}, return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            waiting.cancel()
            return
        if not hub.news_after(seen):
            await websocket.send_json({"type": "heartbeat", "cursor": str(seen.cursor)})


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it closes."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


def event_message(event: StreamedEvent) -> dict[str, Any]:
    record = event.record
    return {
        "type": "event",
        "cursor": str(event.cursor),
        "event_id": record.event_id,
        "event_type": record.type,
        "campaign_id": record.campaign_id,
        "version": record.version,
        "occurred_at": record.occurred_at.isoformat(),
        "correlation_id": record.correlation_id,
        "data": record.data,
        "recorded_at": record.recorded_at.isoformat(),
    }
