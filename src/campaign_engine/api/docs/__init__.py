"""``/docs``: Swagger UI over ``/openapi.json``, every file of it served by this server.

FastAPI's own page loads Swagger UI's scripts from a CDN, without integrity, and starts it with
an inline script: whoever serves that CDN could run code next to the API token. Here the page
loads the Swagger UI distribution that the ``fastapi-offline`` package ships (its static
files only) and a start script of ours, under a policy that allows this server alone."""

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from campaign_engine.api.headers import page_policy

DOCS = "/docs"
ASSETS = "/docs/assets"
SWAGGER_UI = Path(fastapi_offline.__file__).resolve().parent / "static"
START = Path(__file__).resolve().parent / "swagger-init.js"

# Swagger UI sets its styles through the DOM, which the policy allows: no inline anything.
DOCS_POLICY = page_policy()

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{title}} · API</title>
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
  <link rel="icon" href="data:,">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="{DOCS}/start.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Serve the page, its start script and Swagger UI's files; the app is made with
    ``docs_url=None, redoc_url=None`` (ReDoc is not served: it needs inline styles)."""
    page = _PAGE.replace("{title}", app.title)
    headers = {"Content-Security-Policy": DOCS_POLICY, "Cache-Control": "no-cache"}
    router = APIRouter(include_in_schema=False)

    @router.get(DOCS)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)

    @router.get(f"{DOCS}/start.js")
    async def start() -> FileResponse:
        return FileResponse(START, media_type="text/javascript", headers=headers)

    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_UI), name="swagger-ui")
