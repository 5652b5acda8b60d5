"""What every answer of the API carries and whom it answers, without a server: the security
headers (a policy that lets the dashboard load only this server's files, and a JSON answer
nothing), /docs without a third-party script, and the Host allow-list. The app is driven in
memory, without its lifespan (no Temporal, no database)."""

import re
import socket

import httpx
import pytest

from campaign_engine.api import create_app
from campaign_engine.api.dashboard import STATIC
from campaign_engine.api.hosts import host_name
from campaign_engine.api.sockets import listen, with_nodelay
from campaign_engine.runtime.settings import Settings, load_settings

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _client(settings: Settings, host: str = "127.0.0.1:8000") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url=f"http://{host}")


def _directives(policy: str) -> dict[str, str]:
    return dict([*d.strip().split(" ", 1), ""][:2] for d in policy.split(";") if d.strip())


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/dashboard/app.js", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/docs", 200),
        ("GET", "/nope", 404),
        ("DELETE", "/api/v1/campaigns", 405),
        ("OPTIONS", "/api/v1/campaigns", 204),
        ("GET", "/api/v1/portfolio", 503),  # no database in memory
    ],
)
async def test_every_answer_carries_the_security_headers(
    method: str, path: str, status: int
) -> None:
    async with _client(Settings()) as http:
        answer = await http.request(method, path)
    assert answer.status_code == status
    for name, value in HEADERS.items():
        assert answer.headers[name] == value, name
    policy = _directives(answer.headers["content-security-policy"])
    assert policy["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in policy.get("script-src", "")


async def test_the_dashboard_may_load_this_servers_files_only() -> None:
    async with _client(Settings()) as http:
        page = await http.get("/")
        data = await http.get("/api/v1/portfolio")
    policy = _directives(page.headers["content-security-policy"])
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
    assert _directives(data.headers["content-security-policy"])["default-src"] == "'none'"
    # Nothing inline for the policy to refuse: no script or style element, no handler or
    # style attribute, in the page or in the HTML its scripts write.
    for source in [page.text, *(p.read_text() for p in STATIC.glob("*.js"))]:
        assert not re.search(r"<script(?![^>]*\bsrc=)", source)
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", source)


async def test_docs_load_no_third_party_script() -> None:
    async with _client(Settings()) as http:
        docs = await http.get("/docs")
        scripts = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', docs.text)
        assert scripts and all(s.startswith("/") or s.startswith("data:") for s in scripts)
        for script in scripts:
            if script.startswith("/"):
                assert (await http.get(script)).status_code == 200, script
        assert (await http.get("/redoc")).status_code == 404  # ReDoc came from a CDN
    assert "<script>" not in docs.text
    assert _directives(docs.headers["content-security-policy"])["script-src"] == "'self'"


@pytest.mark.parametrize(
    ("host", "answered"),
    [
        ("127.0.0.1:8000", True),
        ("localhost", True),
        ("LOCALHOST.:80", True),
        ("[::1]:8000", True),
        ("evil.example", False),
        ("127.0.0.1.evil.example", False),
        ("localhost:8000@evil.example", False),
    ],
)
async def test_only_the_allowed_hosts_are_answered(host: str, answered: bool) -> None:
    async with _client(Settings()) as http:
        answer = await http.get("/openapi.json", headers={"Host": host})
    assert (answer.status_code == 200) is answered, answer.text
    if not answered:
        assert answer.status_code == 400 and "API_ALLOWED_HOSTS" in answer.json()["detail"]
        assert answer.headers["x-frame-options"] == "DENY"


async def test_the_allowed_hosts_are_configured() -> None:
    settings = load_settings({"API_ALLOWED_HOSTS": "api.internal, 10.0.0.5"})
    assert settings.api_allowed_hosts == ("api.internal", "10.0.0.5")
    async with _client(settings, "api.internal:8000") as http:
        assert (await http.get("/openapi.json")).status_code == 200
        assert (await http.get("/openapi.json", headers={"Host": "127.0.0.1"})).status_code == 400
    async with _client(load_settings({"API_ALLOWED_HOSTS": "*"}), "anything:1") as http:
        assert (await http.get("/openapi.json")).status_code == 200


def test_host_names_compare_without_port_case_or_final_dot() -> None:
    assert host_name("[::1]:8000") == host_name("::1") == "[::1]"
    assert host_name("LocalHost.:80") == "localhost"
    assert host_name("[::1]") == "[::1]" and host_name("[::1]:x") == "[::1]:x"
    assert host_name("localhost:8000@evil.example") == "localhost:8000@evil.example"


def test_accepted_connections_get_tcp_nodelay() -> None:
    with listen("127.0.0.1", 0) as own:
        assert own.proto == socket.IPPROTO_TCP
        assert with_nodelay(own) is own
    with socket.create_server(("127.0.0.1", 0)) as given:
        assert given.proto == 0  # what asyncio reads as "maybe not TCP"
        with with_nodelay(given) as wrapped:
            assert wrapped.proto == socket.IPPROTO_TCP
            assert wrapped.getsockname() == given.getsockname()
            with socket.create_connection(given.getsockname()) as client:
                accepted, _ = wrapped.accept()
                with accepted:
                    assert accepted.proto == socket.IPPROTO_TCP
                    client.sendall(b"x")
                    assert accepted.recv(1) == b"x"


async def test_a_value_the_arithmetic_cannot_hold_is_a_422_not_a_500() -> None:
    app = create_app(Settings())

    @app.get("/overflowing")
    async def overflowing() -> None:
        raise OverflowError("date value out of range")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        answer = await http.get("/overflowing")
    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        "invalid input: a value is out of range (date value out of range)"
    )
