"""``campaigns doctor``: is this configuration ready to trade? One line per check, each saying
what is wrong and what to do; exit 1 when any check failed.

- the broker: with ``BROKER=alpaca``, the account answers (``GET /v2/account``), is ACTIVE,
  and has buying power;
- the price feed: with ``PRICE_FEED=alpaca``, the historical bars answer for the feed named
  (``ALPACA_DATA_FEED``), and the stream takes the keys and the feed (Alpaca's refusal, if any,
  with its code: wrong keys, a plan without the feed, the account's one connection taken).

Nothing is changed anywhere: it reads the account, asks for one bar, and closes the stream
right after authenticating."""

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import typer
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from campaign_engine.cli.common import read_settings, run
from campaign_engine.market_data.alpaca_config import AlpacaDataConfig
from campaign_engine.market_data.alpaca_stream import to_do
from campaign_engine.market_data.alpaca_wire import loads, read_stream
from campaign_engine.runtime.settings import Settings


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    line: str


def doctor() -> None:
    """Check the configuration in the environment: the broker's account and the price feed
    answer, with what is wrong in one line each (exit 1 when anything is)."""
    settings = read_settings()
    checks = run(_checks(settings))
    for check in checks:
        typer.echo(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.line}")
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


async def _checks(settings: Settings) -> list[Check]:
    checks = [Check("settings", True, f"BROKER={settings.broker} PRICE_FEED={settings.price_feed}")]
    if settings.broker == "alpaca":
        checks.append(await _broker(settings))
    else:
        checks.append(Check("broker", True, f"{settings.broker}: nothing to reach"))
    if settings.price_feed == "alpaca":
        config = settings.alpaca_data_config()
        checks += [await _history(config), await _stream(config)]
    else:
        checks.append(Check("price feed", True, "none: prices come through POST /prices"))
    return checks


async def _broker(settings: Settings) -> Check:
    config = settings.alpaca_config()
    try:
        async with httpx.AsyncClient(
            base_url=config.trading_url, headers=config.auth_headers(), timeout=10
        ) as http:
            answer = await http.get("/v2/account")
    except httpx.HTTPError as error:
        return Check("broker", False, f"{config.trading_url} unreachable: {type(error).__name__}")
    if answer.status_code in (401, 403):
        return Check("broker", False, f"Alpaca refused the keys ({answer.status_code})")
    if answer.status_code >= 400:
        return Check("broker", False, f"Alpaca answered {answer.status_code}: {answer.text[:120]}")
    account = loads(answer.content)
    where = "paper" if config.paper else "LIVE"
    status, power = account.get("status"), account.get("buying_power")
    line = f"Alpaca {where} account {account.get('account_number')} {status}, buying power {power}"
    return Check(
        "broker", status == "ACTIVE", line if status == "ACTIVE" else f"{line}: not ACTIVE"
    )


async def _history(config: AlpacaDataConfig) -> Check:
    start = (datetime.now(UTC) - timedelta(days=7)).isoformat().replace("+00:00", "Z")
    params = {"symbols": "SPY", "timeframe": "1Day", "limit": "1", "start": start}
    params["feed"] = config.feed
    try:
        async with httpx.AsyncClient(
            base_url=config.data_url, headers=config.auth_headers(), timeout=10
        ) as http:
            answer = await http.get(config.bars_path(crypto=False), params=params)
    except httpx.HTTPError as error:
        return Check("bars", False, f"{config.data_url} unreachable: {type(error).__name__}")
    if answer.status_code == 200:
        return Check("bars", True, f"the historical bars answer on the {config.feed} feed")
    why = {401: "the keys are refused", 403: f"the account's plan lacks the {config.feed} feed"}
    said = why.get(answer.status_code, answer.text[:120])
    return Check("bars", False, f"{answer.status_code}: {said}")


async def _stream(config: AlpacaDataConfig) -> Check:
    url = config.stream_for(crypto=False)
    secret = config.secret_key.get_secret_value()
    auth = json.dumps({"action": "auth", "key": config.key_id, "secret": secret})
    try:
        async with asyncio.timeout(15), connect(url) as socket:
            while True:
                batch = read_stream(await socket.recv())
                if batch.errors:
                    error = batch.errors[0]
                    line = f"{error.code} {error.message} ({to_do(error.kind)})"
                    return Check("stream", False, line)
                if "connected" in batch.successes:
                    await socket.send(auth)
                if "authenticated" in batch.successes:
                    return Check("stream", True, f"authenticated on the {config.feed} feed")
    except (OSError, WebSocketException, TimeoutError) as error:
        return Check("stream", False, f"{url} unreachable: {type(error).__name__}")
