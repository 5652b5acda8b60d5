"""``campaigns doctor`` as a user runs it, against the local stand-ins of Alpaca's trading API
and its market data: ready says so line by line; a plan without the feed asked for and wrong
keys each get one line saying what is wrong, and exit 1."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from campaign_engine.testing import fake_alpaca, fake_alpaca_data
from campaign_engine.testing.fake_alpaca import KEY_ID, SECRET, FakeAlpaca
from campaign_engine.testing.fake_alpaca_data import FakeAlpacaData

CLI = Path(sys.executable).parent / "campaigns"


@dataclass
class Alpaca:
    trading: FakeAlpaca
    data: FakeAlpacaData


@pytest.fixture
async def alpaca() -> AsyncIterator[Alpaca]:
    """The one account, on both stand-ins: its plan includes the iex feed only."""
    data = FakeAlpacaData(key_id=KEY_ID, secret=SECRET, feeds=("iex",))
    async with fake_alpaca.serving(FakeAlpaca()) as trading, fake_alpaca_data.serving(data):
        yield Alpaca(trading, data)


async def _doctor(alpaca: Alpaca, **env: str) -> tuple[int, list[str]]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("ALPACA_", "API_"))}
    environ |= {
        "BROKER": "alpaca",
        "PRICE_FEED": "alpaca",
        "ALPACA_API_KEY_ID": KEY_ID,
        "ALPACA_API_SECRET_KEY": SECRET,
        "ALPACA_BASE_URL": alpaca.trading.base_url,
        "ALPACA_DATA_URL": alpaca.data.base_url,
        "ALPACA_DATA_STREAM_URL": alpaca.data.stream_url,
        "METRICS_PORT": "off",
    } | env
    process = await asyncio.create_subprocess_exec(
        str(CLI), "doctor", stdout=asyncio.subprocess.PIPE, env=environ
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode().splitlines()


async def test_a_ready_configuration_says_so_line_by_line(alpaca: Alpaca) -> None:
    code, lines = await _doctor(alpaca)
    assert code == 0, lines
    assert lines[0] == "ok   settings: BROKER=alpaca PRICE_FEED=alpaca"
    assert lines[1].startswith("ok   broker: Alpaca paper account PA3FAKE0001 ACTIVE")
    assert lines[2:] == [
        "ok   bars: the historical bars answer on the iex feed",
        "ok   stream: authenticated on the iex feed",
    ]


async def test_a_plan_without_the_feed_asked_for_is_named(alpaca: Alpaca) -> None:
    code, lines = await _doctor(alpaca, ALPACA_DATA_FEED="sip")
    assert code == 1
    assert lines[2] == "FAIL bars: 403: the account's plan lacks the sip feed"
    assert lines[3].startswith("FAIL stream: 409 insufficient subscription (")
    assert "ALPACA_DATA_FEED=iex" in lines[3]


async def test_wrong_keys_fail_every_check_that_uses_them_and_are_never_printed(
    alpaca: Alpaca,
) -> None:
    code, lines = await _doctor(alpaca, ALPACA_API_SECRET_KEY="not-the-secret")
    assert code == 1
    assert lines[1] == "FAIL broker: Alpaca refused the keys (401)"
    assert lines[2] == "FAIL bars: 401: the keys are refused"
    assert lines[3].startswith("FAIL stream: 402 auth failed (check ALPACA_API_KEY_ID")
    assert not any("not-the-secret" in line for line in lines)
