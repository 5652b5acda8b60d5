"""What a path answers to, said the same way everywhere: ``OPTIONS`` answers 204 with ``Allow``
listing every method of the path, and a method the path does not serve answers 405 with the
same ``Allow`` and a body naming it.

Starlette routes each method separately, so left alone a 405 names the methods of the first
route that matched the path only (``GET`` for ``/campaigns/{id}``, which also takes
``PATCH``), and ``OPTIONS`` is one more unsupported method."""

import json
from collections.abc import Sequence
from http import HTTPStatus

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _served(routes: Sequence[BaseRoute], scope: Scope, method: str) -> bool:
    probe = {**scope, "method": method}
    return any(route.matches(probe)[0] is Match.FULL for route in routes)


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> frozenset[str]:
    """The methods the request's path is served with (OPTIONS included when there are
    any); empty when no route has the path."""
    methods = {method for method in _METHODS if _served(routes, scope, method)}
    return frozenset(methods | {"OPTIONS"}) if methods else frozenset()


class AllowedMethods:
    """ASGI middleware: answers OPTIONS, and rewrites the app's 405s, for the app's routes.
    Only those requests pay for the extra routing."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes  # the app's own list: routes included later count too

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and (methods := allowed_methods(self.routes, scope)):
            await _answer(send, HTTPStatus.NO_CONTENT, methods, None)
            return
        replaced = False

        async def sending(message: Message) -> None:
            nonlocal replaced
            if (
                message["type"] == "http.response.start"
                and message["status"] == HTTPStatus.METHOD_NOT_ALLOWED
                and (methods := allowed_methods(self.routes, scope))
            ):
                replaced = True
                allow = ", ".join(sorted(methods))
                detail = f"method {scope['method']} is not allowed on {scope['path']}"
                detail += f"; allowed: {allow}"
                await _answer(send, HTTPStatus.METHOD_NOT_ALLOWED, methods, detail)
            elif not replaced:  # the app's own 405 body is dropped with its start
                await send(message)

        await self.app(scope, receive, sending)


async def _answer(
    send: Send, status: HTTPStatus, methods: frozenset[str], detail: str | None
) -> None:
    body = b"" if detail is None else json.dumps({"detail": detail}).encode()
    headers = [(b"allow", ", ".join(sorted(methods)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
