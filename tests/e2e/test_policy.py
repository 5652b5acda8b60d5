"""The policy as configuration, end to end: a TOML file named by CAMPAIGNS_POLICY decides the
entries (here its correlation group is the limit that binds), GET /policy shows it, and every
decision, live and stored, names it. A bad file stops every command before it starts."""

import asyncio
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import select

from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.schema import allocation_plans
from campaign_engine.domain.vocabulary import Pattern, RejectionCode
from campaign_engine.runtime.settings import load_settings
from campaign_engine.testing.builders import signal, trading_range
from tests.e2e.api_fixtures import V1, api_client, body, dec, ok
from tests.support.harness import Stack, eventually

D = Decimal
CLI = Path(sys.executable).parent / "campaigns"

# Trades of up to 2.5% in a TECH group of at most 6% (the default): two fit, a third does not,
# while the portfolio's heat (10%) still has room for it.
POLICY = """
per_trade_max_risk_pct = 2.5
correlated_max_risk_pct = 6.0

[correlation_groups]
AAPL = "TECH"
MSFT = "TECH"
NVDA = "TECH"
"""


def _sos(symbol: str) -> dict[str, object]:
    rng = trading_range(symbol=symbol, range_id=uuid4())
    return body(signal(Pattern.SOS, rng=rng, requested_risk_pct="2.5"))


async def test_a_configured_correlation_group_is_the_limit_that_binds(
    stack: Stack, tmp_path: Path
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY)
    settings = load_settings({"CAMPAIGNS_POLICY": str(path), "ACCOUNT_EQUITY": "100000"})
    policy = settings.policy
    client = CampaignClient(
        stack.client.temporal, policy=policy, task_queue=stack.settings.task_queue
    )
    async with api_client(stack.settings, client, stack.engine) as api:
        shown = await ok(await api.get(f"{V1}/policy"))
        assert shown["policy_id"] == policy.policy_id
        assert shown["correlation_groups"] == {"AAPL": "TECH", "MSFT": "TECH", "NVDA": "TECH"}
        assert (shown["per_trade_max_risk_pct"], shown["correlated_max_risk_pct"]) == ("2.5", "6")
        assert shown["portfolio_max_heat_pct"] == "10"

        plans = []
        for symbol in ("AAPL", "MSFT", "NVDA", "TSLA"):
            plans.append(await ok(await api.post(f"{V1}/signals", json=_sos(symbol))))
        aapl, msft, nvda, tsla = plans
        # 2.5% of 100,000 over a 1.50 risk per share: 1,666 shares, 2,499 at risk each.
        assert [(p["approved"], p["shares"]) for p in (aapl, msft)] == [(True, "1666")] * 2
        assert not nvda["approved"]
        assert nvda["rejection_code"] == RejectionCode.CORRELATED_RISK
        assert "TECH" in nvda["rejection_reason"]
        # Refused by the group while the portfolio's heat (4.998%) had room for 2.5% more,
        # which a symbol of another group then takes.
        assert dec(nvda["heat_after_pct"]) < D("10") - D("2.5")
        assert tsla["approved"] and dec(tsla["heat_after_pct"]) == D("7.497")
        assert {p["policy_id"] for p in plans} == {policy.policy_id}

        for plan in plans:
            campaign = plan["campaign_id"]
            listed = await api.get(f"{V1}/campaigns/{campaign}/allocations")
            if not plan["approved"]:  # a refused first signal creates no campaign
                assert listed.status_code == 404
                continue
            [allocation] = (await ok(listed))["allocations"]
            assert allocation["policy_id"] == policy.policy_id

    async def stored() -> bool:
        async with stack.engine.connect() as conn:
            rows = (await conn.execute(select(allocation_plans.c.policy_id))).all()
        return len(rows) == 4 and {r.policy_id for r in rows} == {policy.policy_id}

    await eventually(stored)


def _signal_json() -> str:
    return json.dumps(_sos("AAPL"))


@pytest.mark.parametrize(
    "command",
    [["worker"], ["api", "--port", "0"], ["dev"], ["demo"], ["submit", "-"], ["list"]],
    ids=lambda c: c[0],
)
async def test_every_command_refuses_to_start_on_a_bad_policy_file(
    tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[bmad_weights]\nSPRING = 0.40\nSOS = 0.30\nLPS = 0.40\n")
    env = {k: v for k, v in os.environ.items() if k not in {"API_TOKEN", "ACCOUNT_EQUITY"}}
    env |= {"CAMPAIGNS_POLICY": str(path), "METRICS_PORT": "off", "COLUMNS": "400"}
    process = await asyncio.create_subprocess_exec(
        str(CLI),
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    _, err = await asyncio.wait_for(process.communicate(_signal_json().encode()), 60)
    assert process.returncode == 1, err.decode()
    assert "Traceback" not in err.decode()
    # The one line, after what the interpreter itself may warn about.
    assert err.decode().strip().splitlines()[-1] == (
        f"error: invalid configuration: CAMPAIGNS_POLICY {path}: bmad_weights: must be positive "
        "and sum to 1, got SPRING 0.40, SOS 0.30, LPS 0.40"
    )
