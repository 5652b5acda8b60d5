"""What the API says about itself and answers before any route runs, without a server: its
OpenAPI document (what it checks), OPTIONS and 405 (which methods), CORS (closed unless
configured), and the rule that a public API needs a token. The app is driven in memory,
without its lifespan (no Temporal, no database)."""

import re
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from campaign_engine.api import create_app
from campaign_engine.api.exposure import exposure_problem, is_loopback
from campaign_engine.db.read_model import MAX_OFFSET
from campaign_engine.runtime.settings import Settings, load_settings

V1 = "/api/v1"
ORIGIN = "https://dashboard.example"


def _client(settings: Settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")


def _parameter(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    parameters = document["paths"][path]["get"]["parameters"]
    found: dict[str, Any] = next(p for p in parameters if p["name"] == name)
    return found


# --- the schema says what the server checks ----------------------------------------------


def test_the_listing_declares_the_bounds_and_the_symbol_pattern_it_checks() -> None:
    document = create_app(Settings()).openapi()
    offset = _parameter(document, f"{V1}/campaigns", "offset")["schema"]
    assert (offset["minimum"], offset["maximum"]) == (0, MAX_OFFSET)
    symbol = _parameter(document, f"{V1}/campaigns", "symbol")["schema"]["anyOf"][0]
    assert symbol["maxLength"] == 32
    assert symbol["pattern"] == "^[A-Za-z0-9][A-Za-z0-9._/:-]*$"


def test_decimals_carry_their_bounds_on_both_spellings() -> None:
    schemas = create_app(Settings()).openapi()["components"]["schemas"]
    number, string = schemas["EntrySignal"]["properties"]["entry_price"]["anyOf"]
    assert number == {"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000_000}
    assert string["type"] == "string"
    assert "gt" not in schemas["EntrySignal"]["properties"]["entry_price"]
    positive = re.compile(string["pattern"])
    assert [bool(positive.match(s)) for s in ("148.50", "0.01", "0", "0.00", "-1", "1e3")] == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    confidence = schemas["EntrySignal"]["properties"]["confidence"]["anyOf"]
    assert confidence[0] == {"type": "number", "minimum": 0, "maximum": 100}
    up_to_100 = re.compile(confidence[1]["pattern"])
    assert [bool(up_to_100.match(s)) for s in ("0", "75.5", "100", "100.5", "101")] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_the_token_is_declared_only_when_the_server_checks_it() -> None:
    open_api = create_app(Settings()).openapi()
    signals = open_api["paths"][f"{V1}/signals"]["post"]
    assert "security" not in signals and "401" not in signals["responses"]
    closed = create_app(Settings(api_token=SecretStr("s3cret"))).openapi()
    signals = closed["paths"][f"{V1}/signals"]["post"]
    assert signals["security"] == [{"API_TOKEN": []}] and "401" in signals["responses"]


def test_every_operation_documents_an_outage_and_bodies_an_unreadable_body() -> None:
    document = create_app(Settings()).openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "503" in operation["responses"], (method, path)
            assert ("400" in operation["responses"]) == ("requestBody" in operation)


# --- OPTIONS and 405 agree ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (f"{V1}/campaigns/AAPL-2024-10-15", "GET, OPTIONS, PATCH"),
        (f"{V1}/signals", "OPTIONS, POST"),
        ("/healthz", "GET, OPTIONS"),
    ],
)
async def test_options_and_405_name_every_method_of_the_path(path: str, allowed: str) -> None:
    async with _client(Settings()) as api:
        options = await api.options(path)
        assert (options.status_code, options.headers["allow"]) == (204, allowed)
        refused = await api.delete(path)
        assert (refused.status_code, refused.headers["allow"]) == (405, allowed)
        assert refused.json() == {
            "detail": f"method DELETE is not allowed on {path}; allowed: {allowed}"
        }


async def test_an_unknown_path_is_404_whatever_the_method() -> None:
    async with _client(Settings()) as api:
        assert (await api.options(f"{V1}/nothing")).status_code == 404
        assert (await api.delete(f"{V1}/nothing")).status_code == 404


# --- CORS: closed unless configured ------------------------------------------------------


def _preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_no_cors_headers_by_default() -> None:
    async with _client(Settings()) as api:
        preflight = await api.options(f"{V1}/signals", headers=_preflight(ORIGIN))
        assert "access-control-allow-origin" not in preflight.headers
        read = await api.get("/openapi.json", headers={"Origin": ORIGIN})
        assert "access-control-allow-origin" not in read.headers


async def test_cors_for_the_configured_origins_only() -> None:
    settings = load_settings({"CORS_ORIGINS": f"{ORIGIN}, https://other.example"})
    assert settings.cors_origins == (ORIGIN, "https://other.example")
    async with _client(settings) as api:
        preflight = await api.options(f"{V1}/signals", headers=_preflight(ORIGIN))
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in preflight.headers["access-control-allow-methods"]
        stranger = await api.options(f"{V1}/signals", headers=_preflight("https://evil.example"))
        assert "access-control-allow-origin" not in stranger.headers
        read = await api.get("/openapi.json", headers={"Origin": ORIGIN})
        assert read.headers["access-control-allow-origin"] == ORIGIN


# --- a public API needs a token, and the token is never shown ----------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("api.example.com", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_public_host_needs_a_token() -> None:
    problem = exposure_problem(Settings(), "0.0.0.0")
    assert problem is not None and "API_TOKEN" in problem
    assert exposure_problem(Settings(), "127.0.0.1") is None
    assert exposure_problem(Settings(api_token=SecretStr("s3cret")), "0.0.0.0") is None
    assert exposure_problem(load_settings({"API_TOKEN": "   "}), "0.0.0.0") is not None


def test_the_token_never_shows_in_the_settings() -> None:
    token = "tok-7d1f0c9e-never-printed"
    settings = load_settings({"API_TOKEN": token})
    assert settings.bearer_token == token
    for shown in (repr(settings), str(settings), settings.model_dump_json(), f"{settings!r}"):
        assert token not in shown
