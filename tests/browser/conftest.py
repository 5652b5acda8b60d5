"""The dashboard in a real browser: Debian's chromium driven by Playwright (never a browser of
Playwright's own), over the whole stack of the end-to-end tests (Temporal, the worker,
PostgreSQL) and a real uvicorn serving the API, which a test can stop and start again on the
same port.

``python3 run.py test`` installs chromium where it is missing (as root, with apt-get); without
it these tests are skipped, saying so."""

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from campaign_engine.api import serve_api
from campaign_engine.runtime.settings import Settings
from tests.e2e.conftest import channels, configured_policy, stack
from tests.support.harness import Stack

__all__ = ["channels", "configured_policy", "stack"]  # the end-to-end stack, shared

CHROMIUM = Path("/usr/bin/chromium")


def chromium_path() -> Path | None:
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "Debian's chromium is not installed (/usr/bin/chromium): `python3 run.py test` "
            "installs it when run as root, or `apt-get install chromium`"
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(executable),
            # As root (CI, containers) chromium will not start its sandbox.
            args=["--no-sandbox"] if os.geteuid() == 0 else [],
        )
        try:
            yield launched
        finally:
            await launched.close()


# Every violation of a page's Content-Security-Policy, reported to the test as it happens.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.reportPolicyViolation(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


@pytest.fixture
def policy_violations() -> list[str]:
    """What the page's policy refused, seen by the page fixture (empty at its end)."""
    return []


@pytest.fixture
async def page(browser: Browser, policy_violations: list[str]) -> AsyncIterator[Page]:
    """A fresh tab at 1280 pixels wide; a script error on the page, or anything its
    Content-Security-Policy refused, fails the test."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.expose_binding(
        "reportPolicyViolation", lambda _source, text: policy_violations.append(str(text))
    )
    await context.add_init_script(_REPORT_VIOLATIONS)
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on(
        "console",
        lambda message: (
            policy_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    try:
        yield opened
    finally:
        await context.close()
    assert errors == [], f"the page raised: {errors}"
    assert policy_violations == [], f"the page's policy refused: {policy_violations}"


class ServedApi:
    """``serve_api`` over the test's stack on a port of its own, that can be stopped (like a
    killed API process: its sockets drop) and started again on the same port."""

    def __init__(self, stack: Stack, settings: Settings) -> None:
        self._stack = stack
        self._settings = settings
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        listening = socket.create_server(("127.0.0.1", self.port))
        self._task = asyncio.create_task(
            serve_api(
                self._settings,
                client=self._stack.client,
                engine=self._stack.engine,
                sock=listening,
            )
        )
        async with httpx.AsyncClient(base_url=self.url) as http:
            for _ in range(200):
                if self._task.done():
                    self._task.result()
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/openapi.json")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise AssertionError("the API did not start")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@contextlib.asynccontextmanager
async def served(stack: Stack, settings: Settings | None = None) -> AsyncIterator[ServedApi]:
    api = ServedApi(stack, settings or stack.settings)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
