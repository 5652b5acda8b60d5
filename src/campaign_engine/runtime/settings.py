"""Configuration from the environment: one object, read once, passed down explicitly."""

import os
from collections.abc import Mapping
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from campaign_engine.brokers.alpaca.config import REQUESTS_PER_MINUTE, AlpacaConfig
from campaign_engine.brokers.sim.config import SimConfig
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.types import Equity, MoneyValue
from campaign_engine.formats.validation_errors import problem_lines
from campaign_engine.market_data.alpaca_config import DATA_URL, STREAM_URL, AlpacaDataConfig
from campaign_engine.runtime.policy_file import PolicyFileError, read_policy

TASK_QUEUE = "campaigns"  # SPEC section 8
WORKFLOW_CACHE_SIZE = 10_000
WORKFLOW_TASK_SLOTS = 100
# How long a campaign's next task may wait for the worker that caches its run before the
# server hands it to any worker, which replays the history. A flood (a thousand stop-outs on
# one price) queues a thousand tasks at once, drained at 50-100 a second here: with the SDK's
# 10 s, 117-464 of them timed out (bench/scale/scale_bench.py flood). It is also how long the
# tasks already queued for a worker that died wait before another takes them (new tasks go
# elsewhere once the server has seen no poll for 10 s): 30 s made the restart tests' queries
# fail, 20 s costs a restart about 10 s more than the SDK's default. The tests that kill
# workers on purpose set a few seconds (CAMPAIGNS_STICKY_TIMEOUT): they run no flood.
STICKY_TIMEOUT_SECONDS = 20.0
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class SettingsError(ValueError):
    """The environment does not describe a runnable configuration."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = TASK_QUEUE
    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset means the embedded server"
    )
    data_dir: Path = Path(".data")
    api_token: SecretStr | None = Field(
        default=None, description="bearer token for POST and PATCH; never shown in a repr or log"
    )
    cors_origins: tuple[str, ...] = Field(
        default=(),
        description="origins a browser may call the API from (CORS); empty: no CORS headers",
    )
    api_allowed_hosts: tuple[str, ...] = Field(
        default=LOOPBACK_NAMES,
        description="the names the API answers to in the Host header, any port (a request "
        "naming another gets 400, which keeps DNS rebinding out); '*' answers any",
    )
    account_equity: Equity = MoneyValue(Decimal("100000"))
    notify_webhook_url: str | None = None
    metrics_port: int | None = Field(default=9464, ge=0, le=65535)
    continue_as_new_after_events: int = Field(default=2_000, ge=50)
    reconcile_every_seconds: int = Field(default=300, ge=1)
    mutation_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="seconds a POST or PATCH waits for its decision before answering 503",
    )
    workflow_cache_size: int = Field(
        default=WORKFLOW_CACHE_SIZE,
        ge=0,
        description="campaign runs the worker keeps in memory; a price or poll to one it "
        "evicted replays its history (see docs/benchmarks)",
    )
    sticky_timeout_seconds: float = Field(
        default=STICKY_TIMEOUT_SECONDS,
        gt=0,
        le=600,
        description="seconds a campaign's next task waits for the worker that caches its run "
        "before any worker takes it and replays the history (see worker.py)",
    )
    workflow_task_slots: int = Field(
        default=WORKFLOW_TASK_SLOTS,
        ge=1,
        description="workflow tasks the worker runs at once; they share one interpreter, so "
        "more at once only makes each take longer (see docs/benchmarks)",
    )
    log_level: str = "INFO"
    log_json: bool = False
    # --- the broker (see docs/brokers.md) ---
    broker: Literal["paper", "sim", "alpaca"] = Field(
        default="paper",
        description="paper: every order fills at once; sim: the simulated market (SIM_*); "
        "alpaca: Alpaca's paper or live account (ALPACA_*)",
    )
    price_feed: Literal["none", "alpaca"] = Field(
        default="none",
        description="none: prices come through POST /prices only; alpaca: Alpaca's minute bars "
        "for the symbols of open campaigns, into the same intake (ALPACA_DATA_*)",
    )
    sim: SimConfig = Field(default_factory=SimConfig, description="the simulated broker")
    alpaca_api_key_id: str | None = Field(default=None, validate_default=True)
    alpaca_api_secret_key: SecretStr | None = Field(default=None, validate_default=True)
    alpaca_paper: bool = Field(default=True, description="false: the live account")
    alpaca_base_url: str | None = Field(
        default=None, description="overrides the paper or live URL (a proxy, a test server)"
    )
    alpaca_requests_per_minute: int = Field(default=REQUESTS_PER_MINUTE, ge=1)
    alpaca_data_feed: Literal["iex", "sip"] = Field(
        default="iex", description="iex: the free plan's feed; sip: every exchange (paid)"
    )
    alpaca_data_url: str = Field(default=DATA_URL, description="the historical bars' root")
    alpaca_data_stream_url: str = Field(default=STREAM_URL, description="the streams' root")

    policy_file: Path | None = Field(
        default=None, description="the TOML file the policy was read from; unset: the defaults"
    )
    configured_policy: Policy = Field(
        default_factory=Policy,
        description="the policy as configured; its starting equity gives way to account_equity",
    )

    @field_validator("alpaca_api_key_id", "alpaca_api_secret_key")
    @classmethod
    def _alpaca_needs_keys(
        cls, value: str | SecretStr | None, info: ValidationInfo
    ) -> str | SecretStr | None:
        secret = value.get_secret_value() if isinstance(value, SecretStr) else value
        alpaca = info.data.get("broker") == "alpaca" or info.data.get("price_feed") == "alpaca"
        if alpaca and not (secret or "").strip():
            raise ValueError("required when BROKER=alpaca or PRICE_FEED=alpaca")
        return value

    @field_validator("cors_origins", "api_allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):  # CORS_ORIGINS, API_ALLOWED_HOSTS: comma-separated
            return tuple(o.strip() for o in value.split(",") if o.strip())
        return value

    @property
    def bearer_token(self) -> str | None:
        """The API token's text, or None when the API is open (unset or empty)."""
        token = self.api_token
        if token is None:
            return None
        return (token.get_secret_value() if isinstance(token, SecretStr) else str(token)) or None

    def alpaca_config(self) -> AlpacaConfig:
        """How to reach the Alpaca account (with ``BROKER=alpaca`` the keys are checked)."""
        key_id, secret = self._alpaca_keys("the Alpaca broker")
        return AlpacaConfig(
            key_id=key_id,
            secret_key=secret,
            paper=self.alpaca_paper,
            base_url=self.alpaca_base_url,
            requests_per_minute=self.alpaca_requests_per_minute,
        )

    def alpaca_data_config(self) -> AlpacaDataConfig:
        """How to reach Alpaca's market data (``PRICE_FEED=alpaca``): the account's keys."""
        key_id, secret = self._alpaca_keys("the Alpaca price feed")
        return AlpacaDataConfig(
            key_id=key_id,
            secret_key=secret,
            feed=self.alpaca_data_feed,
            data_url=self.alpaca_data_url,
            stream_url=self.alpaca_data_stream_url,
        )

    def _alpaca_keys(self, needing: str) -> tuple[str, SecretStr]:
        key_id, secret = self.alpaca_api_key_id, self.alpaca_api_secret_key
        if not key_id or secret is None:
            raise SettingsError(f"{needing} needs ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY")
        return key_id, secret

    @cached_property
    def policy(self) -> Policy:
        """The policy in force: the configured one, starting from ``account_equity``."""
        configured = self.configured_policy
        if configured.starting_equity == self.account_equity:
            return configured
        return Policy.model_validate(
            {**configured.model_dump(), "starting_equity": self.account_equity}
        )


_ENV = {
    "TEMPORAL_ADDRESS": "temporal_address",
    "TEMPORAL_NAMESPACE": "temporal_namespace",
    "CAMPAIGNS_TASK_QUEUE": "task_queue",
    "DATABASE_URL": "database_url",
    "CAMPAIGNS_DATA_DIR": "data_dir",
    "API_TOKEN": "api_token",
    "CORS_ORIGINS": "cors_origins",
    "API_ALLOWED_HOSTS": "api_allowed_hosts",
    "ACCOUNT_EQUITY": "account_equity",
    "NOTIFY_WEBHOOK_URL": "notify_webhook_url",
    "METRICS_PORT": "metrics_port",
    "CAMPAIGNS_CONTINUE_AS_NEW_AFTER_EVENTS": "continue_as_new_after_events",
    "CAMPAIGNS_RECONCILE_EVERY": "reconcile_every_seconds",
    "API_MUTATION_TIMEOUT": "mutation_timeout",
    "CAMPAIGNS_WORKFLOW_CACHE": "workflow_cache_size",
    "CAMPAIGNS_WORKFLOW_TASKS": "workflow_task_slots",
    "CAMPAIGNS_STICKY_TIMEOUT": "sticky_timeout_seconds",
    "LOG_LEVEL": "log_level",
    "LOG_JSON": "log_json",
    "BROKER": "broker",
    "ALPACA_API_KEY_ID": "alpaca_api_key_id",
    "ALPACA_API_SECRET_KEY": "alpaca_api_secret_key",
    "ALPACA_PAPER": "alpaca_paper",
    "ALPACA_BASE_URL": "alpaca_base_url",
    "ALPACA_REQUESTS_PER_MINUTE": "alpaca_requests_per_minute",
    "PRICE_FEED": "price_feed",
    "ALPACA_DATA_FEED": "alpaca_data_feed",
    "ALPACA_DATA_URL": "alpaca_data_url",
    "ALPACA_DATA_STREAM_URL": "alpaca_data_stream_url",
}
# The simulated broker's settings (``SimConfig``'s fields).
_SIM_ENV = {
    "SIM_FILL_FRACTION": "fill_fraction",
    "SIM_QUANTITY_STEP": "quantity_step",
    "SIM_BUYING_POWER": "buying_power",
    "SIM_REJECT_RATE": "reject_rate",
    "SIM_SEED": "seed",
    "SIM_WASH_TRADE_RULE": "wash_trade_rule",
    "SIM_PENDING_CANCELS": "pending_cancels",
}
POLICY_FILE = "CAMPAIGNS_POLICY"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``environ`` (default: the process environment). Empty values count as
    unset; a bad value names the variable it came from.

    ``CAMPAIGNS_POLICY`` names a TOML file of policy settings (``policy.example.toml``), read
    and validated here: a bad file names the file and the key. The file's
    ``starting_equity`` is the account equity unless ``ACCOUNT_EQUITY`` is set, which wins."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {
        field: environ[var] for var, field in _ENV.items() if environ.get(var, "").strip()
    }
    if values.get("metrics_port") in {"0", "off", "none"}:
        values["metrics_port"] = None
    if policy_file := environ.get(POLICY_FILE, "").strip():
        path = Path(policy_file)
        try:
            configured = read_policy(path)
        except PolicyFileError as error:
            raise SettingsError(f"invalid configuration: {POLICY_FILE} {error}") from None
        values |= {"policy_file": path, "configured_policy": configured}
        values.setdefault("account_equity", configured.starting_equity)
    if "broker" in values:
        values["broker"] = str(values["broker"]).strip().lower()
    problems: list[str] = []
    sim = {
        field: environ[var].strip()
        for var, field in _SIM_ENV.items()
        if environ.get(var, "").strip()
    }
    try:
        values["sim"] = SimConfig.model_validate(sim)
    except ValidationError as error:
        problems += problem_lines(error, names={field: var for var, field in _SIM_ENV.items()})
    try:
        settings = Settings.model_validate(values)
    except ValidationError as error:
        problems += problem_lines(error, names={field: var for var, field in _ENV.items()})
    if problems:
        raise SettingsError(f"invalid configuration: {'; '.join(problems)}")
    return settings
