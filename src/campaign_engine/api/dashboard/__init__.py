"""The dashboard: one page of plain HTML, CSS and JavaScript (no library, charts in SVG),
shipped in the package and served by the API at ``/`` with its assets under ``/dashboard``.
It reads the REST API for its first state and follows ``/api/v1/ws`` from there.

The page holds the API token in the tab and renders what the API says with ``innerHTML``: its
policy allows scripts and styles from this server only (no inline script, handler or style
attribute), so that a value that slipped past the escaping could still run nothing."""

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from campaign_engine.api.headers import page_policy

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = "/dashboard"
PAGE_POLICY = page_policy()

router = APIRouter(include_in_schema=False)


@router.get("/")
async def dashboard() -> FileResponse:
    # Always checked again: a dashboard cached across an upgrade would talk to the new API
    # with the old script.
    return FileResponse(
        STATIC / "index.html",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": PAGE_POLICY},
    )


def install_dashboard(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="dashboard")
