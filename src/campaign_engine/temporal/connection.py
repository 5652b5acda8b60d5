"""Connecting to Temporal the one way every part of the system does."""

from datetime import timedelta

from temporalio.client import Client, Interceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from campaign_engine.runtime import tracing
from campaign_engine.runtime.settings import Settings
from campaign_engine.temporal.converter import data_converter

# A worker is scraped from the monitoring host: every interface unless told (the dev stack's).
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104


def runtime_with_metrics(port: int | None, host: str = EVERY_INTERFACE) -> Runtime | None:
    """A Temporal runtime exporting SDK metrics (task latencies, activity failures, ...) and
    the engine's own (runtime/worker_metrics.py) for Prometheus on ``port``; None keeps the
    default runtime. Named by Prometheus' conventions: counters end in ``_total``, durations
    are seconds."""
    if port is None:
        return None
    exporter = PrometheusConfig(
        bind_address=f"{host}:{port}", counters_total_suffix=True, durations_as_seconds=True
    )
    return Runtime(telemetry=TelemetryConfig(metrics=exporter))


CONNECT_TIMEOUT = timedelta(seconds=5)  # an address that swallows packets fails, not hangs


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A client, traced while the process traces: a worker made on it traces too."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter,
        runtime=runtime,
        connect_timeout=CONNECT_TIMEOUT,
        interceptors=temporal_interceptors(),
    )


def temporal_interceptors() -> list[Interceptor]:
    """Tracing's interceptors while the process traces; none (and nothing imported for them)
    otherwise."""
    if not tracing.active():
        return []
    from campaign_engine.temporal.tracing import interceptors

    return interceptors()
