"""The names the API answers to: a request whose ``Host`` names another gets 400.

A page on any site can make a browser send requests to 127.0.0.1 under a name of its own (DNS
rebinding: ``evil.example`` resolves to the attacker, then to 127.0.0.1), and the browser then
lets that page read the answers, since they are same-origin to it. The name is in the ``Host``
header: answering only the configured names (loopback by default, ``API_ALLOWED_HOSTS``)
keeps the open reads, and the dashboard's live stream, to pages of this server."""

import json
from collections.abc import Iterable
from http import HTTPStatus

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from campaign_engine.formats.validation_errors import quoted

log = structlog.get_logger("campaign_engine.api")

ANY = "*"


def host_name(host: str) -> str:
    """``host`` without its port, lower-case, without a trailing dot, an IPv6 address in
    brackets: ``[::1]:8000`` is ``[::1]``, ``LocalHost.:80`` is ``localhost``."""
    host = host.strip().lower()
    if host.count(":") > 1 and not host.startswith("["):  # a bare IPv6 address (a setting)
        return f"[{host}]"
    name, colon, port = host.rpartition(":")
    if not colon or not port.isdigit() or name.endswith(":"):
        name = host  # no port, or not one: the whole is the name (and matches no name)
    return name if name.startswith("[") else name.rstrip(".")


class AllowedHosts:
    """ASGI middleware: HTTP requests and WebSockets whose Host is not allowed get 400."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        names = {host_name(h) for h in hosts}
        self.any = ANY in names
        self.names = frozenset(names - {ANY})

    def allows(self, scope: Scope) -> bool:
        if self.any:
            return True
        for name, value in scope.get("headers", ()):
            if name == b"host":
                return host_name(value.decode("latin-1")) in self.names
        return False  # HTTP/1.0 without a Host: nothing to check it by

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.allows(scope):
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"host"), "")
        log.warning("host_refused", host=quoted(given), path=quoted(scope.get("path", "")))
        detail = (
            f"this server does not answer to the host {quoted(given)!r}: "
            "name it as API_ALLOWED_HOSTS allows (by default 127.0.0.1, localhost or [::1])"
        )
        body = json.dumps({"detail": detail}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        else:
            await _deny_websocket(scope, receive, send, headers, body)


async def _deny_websocket(
    scope: Scope, receive: Receive, send: Send, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """A 400 where the server can answer a WebSocket handshake with a response of our own,
    else the handshake refused (uvicorn answers 403)."""
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        start = {"type": "websocket.http.response.start", "headers": headers}
        await send({**start, "status": HTTPStatus.BAD_REQUEST.value})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})
