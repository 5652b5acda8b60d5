"""Headers every response carries, so that a browser treats the API and its pages as what they
are: nothing is sniffed into another type, nothing is framed (clickjacking the invalidate
button), no address leaks to another site, and a JSON answer opened as a page runs nothing.

A page sets its own ``Content-Security-Policy`` (the dashboard, /docs); every other response
gets ``API_POLICY``, which lets it load nothing at all."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers that do not read frame-ancestors
    "Referrer-Policy": "no-referrer",
}


def page_policy(*, styles: str = "'self'") -> str:
    """The policy of a page of this server: its scripts, styles, images and connections (the
    WebSocket included) from this server only, no inline script, never framed."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            f"style-src {styles}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class SecurityHeaders:
    """ASGI middleware: adds the headers to every HTTP response (and a refused WebSocket's)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                headers = MutableHeaders(scope=message)
                for name, value in _ALWAYS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", API_POLICY)
            await send(message)

        await self.app(scope, receive, sending)
