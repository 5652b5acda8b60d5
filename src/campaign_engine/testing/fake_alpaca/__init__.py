"""A local stand-in for Alpaca's trading API (REST and the ``/stream`` websocket), for tests
of the Alpaca broker on a machine that cannot reach Alpaca. It answers as Alpaca's documented
API does; what the market and the venue do (fills, partial fills, expiries, rejections, a
broken stream) the test drives through ``FakeAlpaca``."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

from campaign_engine.testing.fake_alpaca.app import AlpacaApp, Fault, Seen
from campaign_engine.testing.fake_alpaca.book import Book, Json
from campaign_engine.testing.local_server import served

KEY_ID = "PKTESTKEY0000000000"
SECRET = "test-secret-never-logged"  # noqa: S105 - the fake's own, not a credential

__all__ = ["KEY_ID", "SECRET", "FakeAlpaca", "Seen", "serving"]


class FakeAlpaca:
    def __init__(self, key_id: str = KEY_ID, secret: str = SECRET) -> None:
        self.book = Book()
        self.api = AlpacaApp(self.book, key_id, secret)
        self.base_url = ""

    # --- what the market does ------------------------------------------------------------

    def fill(
        self, client_order_id: str, qty: Decimal | None = None, price: Decimal | None = None
    ) -> Json:
        return self.book.fill(client_order_id, qty, price)

    def expire(self, client_order_id: str) -> None:
        self.book.expire(client_order_id)

    def reject(self, client_order_id: str) -> None:
        self.book.reject(client_order_id)

    def order(self, client_order_id: str) -> Json:
        return self.book.order_by_client_id(client_order_id)

    # --- faults --------------------------------------------------------------------------

    def rate_limit_next(
        self, method: str, path: str, retry_after: str | None = "1", reset_in: int = 1
    ) -> None:
        """The next such request is answered 429, with ``Retry-After`` when given and
        ``X-RateLimit-Reset`` ``reset_in`` whole seconds ahead."""
        self.api.faults.append(Fault(method, path, "rate_limit", retry_after, reset_in=reset_in))

    def lose_next_answer(self, method: str, path: str) -> None:
        """The next such request is carried out, but its answer never arrives (504)."""
        self.api.faults.append(Fault(method, path, "lose_answer"))

    def fail_next(self, method: str, path: str) -> None:
        self.api.faults.append(Fault(method, path, "fail"))

    def before_next(self, method: str, path: str, hook: Callable[[], object]) -> None:
        """Runs ``hook`` (say, a fill) just before the next such request is handled."""
        self.api.faults.append(Fault(method, path, "before", hook=hook))

    def drop_streams(self) -> None:
        """Every open ``/stream`` connection breaks (the client should reconnect)."""
        self.api.drop_streams()

    @property
    def requests(self) -> list[Seen]:
        return self.api.requests

    @property
    def listening(self) -> int:
        return len(self.api.listeners)

    @property
    def stream_connections(self) -> int:
        return self.api.stream_connections


@asynccontextmanager
async def serving(fake: FakeAlpaca) -> AsyncIterator[FakeAlpaca]:
    """Serves ``fake`` on a free local port (``fake.base_url``) in this event loop."""
    async with served(fake.api.app, fake.api.close_streams) as port:
        fake.base_url = f"http://127.0.0.1:{port}"
        yield fake
