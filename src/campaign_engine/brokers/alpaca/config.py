"""Where the Alpaca account is and how to reach it: keys, paper or live, the request budget."""

from pydantic import BaseModel, ConfigDict, Field, SecretStr

PAPER_URL = "https://paper-api.alpaca.markets"
LIVE_URL = "https://api.alpaca.markets"
REQUESTS_PER_MINUTE = 200  # Alpaca's documented limit for one account's trading API


class AlpacaConfig(BaseModel):
    """What ``AlpacaBroker`` and the trade-updates listener need. The secret stays a
    ``SecretStr`` (its repr and str hide it); it is revealed only into a request header or the
    stream's auth message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str = Field(min_length=1)
    secret_key: SecretStr
    paper: bool = True
    base_url: str | None = Field(
        default=None, description="overrides the paper or live URL (a proxy, a test server)"
    )
    requests_per_minute: int = Field(default=REQUESTS_PER_MINUTE, ge=1)
    timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def trading_url(self) -> str:
        """The REST root, without ``/v2``: live only when asked for (``paper=False``)."""
        url = self.base_url or (PAPER_URL if self.paper else LIVE_URL)
        return url.rstrip("/")

    @property
    def stream_url(self) -> str:
        """The trade-updates websocket: the REST host's ``/stream`` (wss for https)."""
        url = self.trading_url
        if url.startswith("https://"):
            return "wss://" + url.removeprefix("https://") + "/stream"
        if url.startswith("http://"):
            return "ws://" + url.removeprefix("http://") + "/stream"
        return url + "/stream"

    def auth_headers(self) -> dict[str, str]:
        return {
            "APCA-API-KEY-ID": self.key_id,
            "APCA-API-SECRET-KEY": self.secret_key.get_secret_value(),
        }
