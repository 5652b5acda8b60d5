"""Regressions the fuzzing found, each refused as bad input over the real stack, and the API
closed by default: a public bind needs a token, and the token never reaches a log."""

import asyncio
import os
import sys
from pathlib import Path

import httpx
import pytest
import structlog
from pydantic import SecretStr
from sqlalchemy import text

from campaign_engine.api import create_app
from campaign_engine.db.read_model import MAX_OFFSET
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import signal
from tests.e2e.api_fixtures import CAMPAIGN, V1, api_client, app_client, body, locs, ok, submit
from tests.support.harness import Stack, settled

CLI = Path(sys.executable).parent / "campaigns"


async def test_an_offset_beyond_any_listing_is_a_422_naming_it(api: httpx.AsyncClient) -> None:
    # Once a 503 "the database is unavailable: bigint out of range".
    huge = await api.get(f"{V1}/campaigns", params={"offset": "113492660413775742790270976"})
    assert locs(huge) == [["query", "offset"]]
    assert (await api.get(f"{V1}/campaigns", params={"offset": MAX_OFFSET + 1})).status_code == 422
    page = await ok(await api.get(f"{V1}/campaigns", params={"offset": MAX_OFFSET}))
    assert page["data"] == []


async def test_a_value_the_database_refuses_is_bad_input_not_an_outage(stack: Stack) -> None:
    app = create_app(stack.settings, client=stack.client, engine=stack.engine)

    @app.get("/refused-by-the-database")
    async def refused() -> None:
        async with stack.engine.connect() as conn:  # a real DataError from PostgreSQL
            await conn.execute(text("SELECT 99999999999999999999999::bigint"))

    async with app_client(app) as http:
        answer = await http.get("/refused-by-the-database")
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == "invalid input: bigint out of range"


async def test_the_symbol_filter_is_checked_as_the_schema_says(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    await submit(api, signal(Pattern.SPRING))
    await settled(stack, CAMPAIGN, 2)
    for bad in ("®O", "-AAPL", " AAPL", "A" * 33):
        assert locs(await api.get(f"{V1}/campaigns", params={"symbol": bad})) == [
            ["query", "symbol"]
        ], bad
    found = await ok(await api.get(f"{V1}/campaigns", params={"symbol": "aapl"}))
    assert [c["campaign_id"] for c in found["data"]] == [CAMPAIGN]


async def test_a_body_that_is_not_text_is_a_400_naming_it(api: httpx.AsyncClient) -> None:
    for path in (f"{V1}/signals", f"{V1}/campaigns/{CAMPAIGN}/invalidate"):
        answer = await api.post(
            path, content=b"\xff\xfe\x00", headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["detail"]
    not_json = await api.post(
        f"{V1}/signals", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422 and not_json.json()["detail"]


async def test_the_token_never_reaches_the_logs(
    stack: Stack, capfd: pytest.CaptureFixture[str]
) -> None:
    token = "tok-3b9e2a-never-logged"
    settings = stack.settings.model_copy(update={"api_token": SecretStr(token)})
    with structlog.testing.capture_logs() as logs:
        async with api_client(settings, stack.client, stack.engine) as api:
            wrong = await api.post(
                f"{V1}/signals", json=body(signal(Pattern.SPRING)), headers={"Authorization": "x"}
            )
            assert wrong.status_code == 401
            await ok(
                await api.post(
                    f"{V1}/signals",
                    json=body(signal(Pattern.SPRING)),
                    headers={"Authorization": f"Bearer {token}"},
                )
            )
            await ok(await api.get(f"{V1}/campaigns", params={"token": token}))
    assert logs, "the API logged nothing to check"
    assert all(token not in repr(entry) for entry in logs)
    out, err = capfd.readouterr()
    assert token not in out and token not in err


# --- a public bind needs a token -----------------------------------------------------------


async def _campaigns(*args: str, **env: str) -> tuple[int, str]:
    environ = {k: v for k, v in os.environ.items() if k != "API_TOKEN"}
    environ.update(METRICS_PORT="off", COLUMNS="200", **env)
    process = await asyncio.create_subprocess_exec(
        str(CLI),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=environ,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_the_api_refuses_a_public_bind_without_a_token() -> None:
    # Refused before anything is reached: no Temporal, no database is needed to say so.
    code, out = await _campaigns(
        "api", "--host", "0.0.0.0", "--port", "0", TEMPORAL_ADDRESS="127.0.0.1:1"
    )
    assert code != 0, out
    assert "API_TOKEN" in out and "0.0.0.0" in out, out


async def test_the_dev_stack_refuses_a_public_bind_without_a_token(tmp_path: Path) -> None:
    code, out = await _campaigns(
        "dev", "--host", "0.0.0.0", CAMPAIGNS_DATA_DIR=str(tmp_path / "data")
    )
    assert code != 0, out
    assert "API_TOKEN" in out, out
    assert not (tmp_path / "data").exists()  # refused before anything started


# --- numbers JSON cannot carry, times past the calendar, huge values: a short 422 ----------

_JSON = {"Content-Type": "application/json"}
_NOT_FINITE = ("NaN", "Infinity", "-Infinity", "1e400")


def _client_address(answer: httpx.Response) -> object:
    return answer.extensions["network_stream"].get_extra_info("client_addr")


async def test_numbers_json_cannot_carry_are_a_422_naming_the_field(
    api: httpx.AsyncClient,
) -> None:
    # Once a 500 (the 422 failed echoing a non-finite float), and the connection dropped.
    first = await api.get(f"{V1}/policy")
    for number in _NOT_FINITE:
        price = f'{{"symbol":"INP","as_of":"2026-12-07T01:00:00Z","price":{number}}}'
        answer = await api.post(f"{V1}/prices", content=price, headers=_JSON)
        assert locs(answer) == [["body", "price"]], (number, answer.text)
        version = f'{{"status":"MARKUP","version":{number}}}'
        answer = await api.patch(f"{V1}/campaigns/{CAMPAIGN}", content=version, headers=_JSON)
        assert locs(answer) == [["body", "version"]], (number, answer.text)
        # The same connection answered: nothing made the server drop it.
        assert _client_address(answer) == _client_address(first)


async def test_a_time_past_the_calendar_once_in_utc_is_a_422_naming_it(
    api: httpx.AsyncClient,
) -> None:
    # 9999-12-31T23:59:59-23:59 is in year 10000 in UTC: once an OverflowError, a 500.
    first = await api.get(f"{V1}/policy")
    for as_of in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"):
        price = {"symbol": "INP", "as_of": as_of, "price": "10"}
        answer = await api.post(f"{V1}/prices", json=price)
        assert locs(answer) == [["body", "as_of"]], (as_of, answer.text)
        assert _client_address(answer) == _client_address(first)


async def test_a_422_quotes_a_short_prefix_of_what_it_refuses(api: httpx.AsyncClient) -> None:
    # Once the whole value came back: megabytes in, megabytes out.
    huge = "A" * 2_000_000
    answer = await api.post(
        f"{V1}/prices", json={"symbol": huge, "as_of": "2026-12-07T01:00:00Z", "price": "10"}
    )
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "symbol"]
    assert problem["input"] == "A" * 64 + "…" and problem["input_length"] == len(huge)
    assert len(answer.content) < 1_000
    unknown = await api.post(f"{V1}/campaigns/{CAMPAIGN}/invalidate", json={huge: "x"})
    assert unknown.status_code == 422 and len(unknown.content) < 1_000, unknown.text[:200]
    digits = '{"status":"MARKUP","version":' + "9" * 100_000 + "}"
    big_number = await api.patch(f"{V1}/campaigns/{CAMPAIGN}", content=digits, headers=_JSON)
    assert big_number.status_code in (400, 422) and len(big_number.content) < 1_000
