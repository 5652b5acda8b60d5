"""Hostile input against the whole REST API: schemathesis generates requests from the OpenAPI
document (its examples, its boundaries, random and deliberately invalid input, sequences of
calls) and sends them to the API served over the real stack, with API_TOKEN set.

Every answer must be: no 5xx, within the per-request timeout (no hang), a refusal a 4xx whose
body names the problem, and conforming to the schema (status, headers, body); invalid input
must be refused and the schema must say what the server checks. The run's case count is
printed and recorded (``schemathesis_cases`` in the JUnit report), and must reach MIN_CASES.

FUZZ_SEED=<n> replays or varies the run (the default seed keeps CI reproducible).

What schemathesis cannot send, since it generates valid JSON, is swept here by hand: NaN,
infinities, 1e400, times past the calendar in UTC and huge strings in every body field of
every operation, each a 4xx with a short answer."""

import asyncio
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import signal
from tests.e2e.api_fixtures import CAMPAIGN, UNKNOWN, V1, api_client, body, ok
from tests.support.harness import Stack, settled

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
TOKEN = "fuzz-token"
MIN_CASES = 1_000
RUN_TIMEOUT = 240.0  # seconds for the whole run


@pytest.mark.long(seconds=65)
async def test_every_operation_refuses_hostile_input_cleanly(
    stack: Stack, record_testsuite_property: Callable[[str, object], None]
) -> None:
    settings = stack.settings.model_copy(update={"api_token": SecretStr(TOKEN)})
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    seed = os.environ.get("FUZZ_SEED", "20261201")
    async with api_client(settings, stack.client, stack.engine) as api:
        # The schema's example campaign exists, so that the requests naming it (examples,
        # boundaries) reach a real campaign, its positions and its trail, not only 404s.
        auth = {"Authorization": f"Bearer {TOKEN}"}
        await ok(await api.post(f"{V1}/signals", json=body(signal(Pattern.SPRING)), headers=auth))
        await settled(stack, CAMPAIGN, 2)
        # A separate process: the API, the worker and Temporal's client run on this loop.
        process = await asyncio.create_subprocess_exec(
            str(SCHEMATHESIS),
            "--config-file",
            str(CONFIG),
            "--no-color",
            "run",
            f"{api.base_url}/openapi.json",
            "--header",
            f"Authorization: Bearer {TOKEN}",
            "--seed",
            seed,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    report = out.decode(errors="replace")
    print(report)  # the summary, with the case count (pytest -s, or on failure)
    counted = re.search(r"(\d+) generated", report)
    assert counted is not None, report
    cases = int(counted.group(1))
    print(f"schemathesis: {cases} cases, seed {seed}")
    record_testsuite_property("schemathesis_cases", cases)  # in the JUnit report
    record_testsuite_property("schemathesis_seed", seed)
    assert process.returncode == 0, report
    assert cases >= MIN_CASES, f"only {cases} cases were generated"


# --- values JSON cannot carry, times past the calendar, huge values, in every field ---------

_RAW_VALUES = (
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    '"9999-12-31T23:59:59-23:59"',
    '"0001-01-01T00:00:00+23:59"',
    '"' + "x" * 200_000 + '"',
    '"nul\\u0000byte"',
)
_SHORT = 4_000  # bytes: an answer that quotes what it refuses only in part


def _body_fields(document: dict[str, Any], operation: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether the body is an array, and the fields of its objects."""
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    many = schema.get("type") == "array"
    if "oneOf" in schema:  # /prices: one update or an array of them
        schema = schema["oneOf"][0]
    schema = schema.get("items", schema)
    name = schema["$ref"].rsplit("/", 1)[-1]
    return many, list(document["components"]["schemas"][name]["properties"])


async def test_no_value_in_any_field_makes_a_5xx_or_a_long_answer(api: httpx.AsyncClient) -> None:
    # Once: NaN, infinities and 1e400 a 500 (the 422 failed echoing them), the far date a 500
    # (UTC past year 9999), and a 422 echoing the whole value, however long.
    document = (await api.get("/openapi.json")).json()
    sent = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            many, fields = _body_fields(document, operation)
            # No such campaign: a value that passes (a reason) must not command a real one.
            url = path.replace("{campaign_id}", UNKNOWN)
            for field in fields:
                for raw in _RAW_VALUES:
                    body = f'{{"{field}": {raw}}}'
                    answer = await api.request(
                        method.upper(),
                        url,
                        content=f"[{body}]" if many else body,
                        headers={"Content-Type": "application/json"},
                    )
                    sent += 1
                    where = f"{method.upper()} {path} {field}={raw[:40]}"
                    assert answer.status_code < 500, f"{where}: {answer.text[:300]}"
                    assert answer.status_code >= 400, where
                    assert len(answer.content) < _SHORT, f"{where}: {len(answer.content)} bytes"
    assert sent > 100, sent
