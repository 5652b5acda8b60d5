"""Where Alpaca's market data is and how to reach it: the same keys as the broker, the feed
the account's plan includes (``iex`` free, ``sip`` paid), the URLs (a test server's)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

DATA_URL = "https://data.alpaca.markets"
STREAM_URL = "wss://stream.data.alpaca.markets"
HISTORY_PAGE = 10_000  # bars per page: the historical endpoint's documented maximum


def is_crypto(symbol: str) -> bool:
    """Alpaca names a crypto pair with a slash (``BTC/USD``); a stock never has one."""
    return "/" in symbol


class AlpacaDataConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str = Field(min_length=1)
    secret_key: SecretStr
    feed: Literal["iex", "sip"] = "iex"
    data_url: str = Field(default=DATA_URL, description="the historical API's root")
    stream_url: str = Field(default=STREAM_URL, description="the stream's root (ws or wss)")
    timeout_seconds: float = Field(default=10.0, gt=0)

    def auth_headers(self) -> dict[str, str]:
        return {
            "APCA-API-KEY-ID": self.key_id,
            "APCA-API-SECRET-KEY": self.secret_key.get_secret_value(),
        }

    def stream_for(self, crypto: bool) -> str:
        """One connection per endpoint: the stocks' feed, or crypto's."""
        root = self.stream_url.rstrip("/")
        return f"{root}/v1beta3/crypto/us" if crypto else f"{root}/v2/{self.feed}"

    def bars_path(self, crypto: bool) -> str:
        return "/v1beta3/crypto/us/bars" if crypto else "/v2/stocks/bars"
