"""The API's edge over a real uvicorn, as a hostile client or a rebinding page meets it: every
answer carries the security headers, a Host the server does not answer to gets 400 (the
WebSocket too), every bad WebSocket parameter gets its documented close code (not HTTP 403),
and what a request brings is escaped in the log of a real ``campaigns api`` process."""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.api_fixtures import V1, api_client
from tests.support.harness import Stack
from tests.support.worker_process import worker_environment

EVIL = "rebound.example"


def _ws_url(http: httpx.AsyncClient, query: str = "") -> str:
    return f"{str(http.base_url).replace('http://', 'ws://').rstrip('/')}{V1}/ws{query}"


async def _close_code(url: str) -> int:
    """The code the server closes the socket with, right after the handshake."""
    async with connect(url) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 20)
    assert closed.value.rcvd is not None, closed.value
    return closed.value.rcvd.code


async def test_every_answer_carries_the_security_headers(api: httpx.AsyncClient) -> None:
    for path in ("/", f"{V1}/policy", f"{V1}/campaigns/NOPE-2024-01-01", "/docs", "/nope"):
        answer = await api.get(path)
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["x-frame-options"] == "DENY", path
        assert answer.headers["referrer-policy"] == "no-referrer", path
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], path
    page = await api.get("/")
    assert "script-src 'self';" in page.headers["content-security-policy"]


async def test_a_host_the_server_does_not_answer_to_gets_400(api: httpx.AsyncClient) -> None:
    # A page on rebound.example whose name now resolves to 127.0.0.1 reads nothing.
    for path in (f"{V1}/portfolio", "/", "/openapi.json"):
        refused = await api.get(path, headers={"Host": f"{EVIL}:{api.base_url.port}"})
        assert refused.status_code == 400, (path, refused.text)
        assert "API_ALLOWED_HOSTS" in refused.json()["detail"]
    assert (await api.get(f"{V1}/policy", headers={"Host": "localhost"})).status_code == 200
    with pytest.raises(InvalidStatus) as handshake:
        async with connect(_ws_url(api), additional_headers={"Host": EVIL}):
            pass
    assert handshake.value.response.status_code == 400


@pytest.mark.parametrize(
    ("query", "code"),
    [
        # Past 8 KB the request line is refused by the server's HTTP parser (414) before any
        # socket exists; anything shorter reaches the handler.
        ("?after=" + "e" * 6_000, 4400),
        ("?after=%00nul", 4400),
        ("?cursor=" + "1" * 6_000, 4400),
        ("?cursor=garbage", 4400),
        ("?cursor=" + "é" * 60, 4400),  # its reason, quoted, is cut to a close frame's bytes
        ("?cursor=9999999999999999999.1", 4400),  # past a bigint: once 1013, "unavailable"
        ("?after=no-such-event", 4404),
    ],
)
async def test_every_bad_parameter_gets_its_close_code(
    api: httpx.AsyncClient, query: str, code: int
) -> None:
    # Once refused before the handshake (HTTP 403), whatever was wrong.
    assert await _close_code(_ws_url(api, query)) == code


async def test_an_overlong_token_is_a_wrong_token(stack: Stack) -> None:
    settings = stack.settings.model_copy(update={"api_token": SecretStr("s3cret")})
    async with api_client(settings, stack.client, stack.engine) as http:
        assert await _close_code(_ws_url(http, "?token=" + "t" * 6_000)) == 4401
        assert await _close_code(_ws_url(http, "?token=s3cret&cursor=x")) == 4400


# --- the log of a real API process -----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def _api_process(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    command = (sys.executable, "-c", "from campaign_engine.cli import main; main()")
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [*command, "api", "--port", str(port)], env=env, stdout=sink, stderr=sink
        )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_what_a_request_brings_is_escaped_in_the_log(
    temporal: WorkflowEnvironment, stack: Stack, tmp_path: Path
) -> None:
    assert stack.settings.database_url is not None
    env = worker_environment(temporal, stack.settings.database_url, stack.settings.task_queue)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    port, log = _free_port(), tmp_path / "api.log"
    with _api_process(env, port, log):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for _ in range(240):
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.25)
            else:
                raise AssertionError(f"the API never answered:\n{log.read_text()}")
            forged = "/x%00y%0A2026-12-07T00:00:00Z%20[error%20%20%20%20]%20forged"
            refused = await http.get(forged, headers={"Host": EVIL})
            assert refused.status_code == 400
    written = log.read_bytes()
    assert b"host_refused" in written, written
    assert b"\x00" not in written
    lines = written.decode().splitlines()
    assert not [line for line in lines if line.startswith("2026-12-07T00:00:00Z")], lines
    assert any("/x\\x00y\\n2026-12-07T00:00:00Z" in line for line in lines), lines
