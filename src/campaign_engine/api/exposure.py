"""Closed by default: an API reachable from other machines must ask for a token, and a browser
on another origin is let in only when configured (CORS_ORIGINS)."""

import ipaddress

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from campaign_engine.runtime.settings import Settings


def is_loopback(host: str) -> bool:
    """Only this machine can connect: 127.0.0.0/8, ::1 or ``localhost``. Any other name may
    resolve to a public address, so it counts as public."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_problem(settings: Settings, host: str) -> str | None:
    """Why the API must not listen on ``host`` with these settings, or None."""
    if is_loopback(host) or settings.bearer_token:
        return None
    return (
        f"refusing to serve the API on {host}, which other machines can reach, without "
        "API_TOKEN: set API_TOKEN (POST and PATCH then need Authorization: Bearer <API_TOKEN>), "
        "or bind to 127.0.0.1"
    )


def install_cors(app: FastAPI, settings: Settings) -> None:
    """CORS headers for the configured origins only; none configured, none sent, and a
    browser keeps other origins' pages out."""
    if not settings.cors_origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH"],
        allow_headers=["Authorization", "Content-Type"],
    )
