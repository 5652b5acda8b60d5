"""The REST API application (SPEC section 8) and the server that runs it.

create_app(settings, client=..., engine=...)   # a FastAPI app, for any ASGI server
await serve_api(settings, host=..., port=...)   # uvicorn in the current event loop
"""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import structlog
import uvicorn
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.api import (
    bars,
    campaigns,
    decisions,
    held_prices,
    metrics,
    portfolio,
    signals,
)
from campaign_engine.api.dashboard import install_dashboard
from campaign_engine.api.docs import install_docs
from campaign_engine.api.errors import install_error_handlers
from campaign_engine.api.exposure import exposure_problem, install_cors, is_loopback
from campaign_engine.api.headers import SecurityHeaders
from campaign_engine.api.hosts import AllowedHosts
from campaign_engine.api.live import socket as live_socket
from campaign_engine.api.live.hub import EventHub
from campaign_engine.api.methods import AllowedMethods
from campaign_engine.api.openapi import install_openapi
from campaign_engine.api.services import Services
from campaign_engine.api.sockets import listen, with_nodelay
from campaign_engine.api.tracing import TracedRequests
from campaign_engine.brokers.sim.exchange import SimExchange
from campaign_engine.brokers.updates import CampaignOrderUpdates
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.bootstrap import prepare_database
from campaign_engine.market_data.feed import feed_for
from campaign_engine.price_feed.leader import PriceDelivery
from campaign_engine.price_feed.publisher import DatabaseDirectory, MarketListener
from campaign_engine.runtime import tracing
from campaign_engine.runtime.settings import LOOPBACK_NAMES, Settings

log = structlog.get_logger("campaign_engine.api")

API_PREFIX = "/api/v1"

DESCRIPTION = """\
Durable Wyckoff trading campaigns on Temporal: submit entry signals, publish prices, follow
campaigns, positions, decisions and the portfolio's heat.

Money, prices, shares and percentages are JSON **strings** (exact decimals); times are UTC
ISO-8601. When the server has `API_TOKEN` set, POST and PATCH need
`Authorization: Bearer <API_TOKEN>` (a server reachable from other machines always has it).

`/api/v1/ws` (a WebSocket, not listed below) pushes the audit trail as it is written, with the
campaigns and the portfolio each change touched; the dashboard at `/` follows it.
"""


class ServeError(RuntimeError):
    """The API cannot serve (e.g. its port is taken)."""


def create_app(
    settings: Settings,
    *,
    client: CampaignClient | None = None,
    engine: AsyncEngine | None = None,
) -> FastAPI:
    """The app; what is not given (client, engine) is connected from ``settings`` when it
    starts and released when it stops. POST /prices appends to the durable intake; of the
    API processes on one database, one at a time delivers it (price_feed/leader.py), resuming
    what a previous one left undelivered, and flushes at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as resources:
            campaign_client = (
                client if client is not None else await CampaignClient.connect(settings)
            )
            database = engine
            if database is None:
                database = await prepare_database(settings)
                resources.push_async_callback(database.dispose)
            directory = DatabaseDirectory(database)
            listeners = market_listeners(settings, campaign_client, database)
            prices: PriceDelivery = await resources.enter_async_context(
                PriceDelivery(
                    database,
                    lambda journal: campaign_client.publisher(
                        directory, listeners=listeners, journal=journal
                    ),
                    while_leading=feed_for(
                        settings, database, campaign_client.policy, lambda: prices.appended()
                    ),
                )
            )
            app.state.hub = await resources.enter_async_context(
                EventHub(database, campaign_client.policy)
            )
            app.state.services = Services(settings, campaign_client, database, prices)
            try:
                yield
            finally:
                app.state.services = None

    app = FastAPI(
        title="campaign-engine",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by install_docs, without a CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    for router in (
        signals.router,
        campaigns.router,
        decisions.router,
        bars.router,
        held_prices.router,
        portfolio.router,
        portfolio.health,
        live_socket.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(portfolio.health)
    app.include_router(metrics.router)  # where Prometheus looks: /metrics
    install_dashboard(app)
    install_docs(app)
    install_openapi(app, token_required=settings.bearer_token is not None)
    if tracing.active():  # innermost: the span is the route's work
        app.add_middleware(TracedRequests, prefix=API_PREFIX)
    app.add_middleware(AllowedMethods, routes=app.router.routes)
    install_cors(app, settings)  # it answers the preflights it allows
    app.add_middleware(AllowedHosts, hosts=settings.api_allowed_hosts)
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, refusals included
    return app


def market_listeners(
    settings: Settings, client: CampaignClient, engine: AsyncEngine
) -> list[MarketListener]:
    """Who else takes the bars POST /prices makes: with ``BROKER=sim``, the simulated
    exchange, which fills the orders resting on them and tells their campaigns. It runs here,
    with the prices, so that orders fill while no worker runs."""
    if settings.broker == "sim":
        updates = CampaignOrderUpdates(client.temporal)
        return [SimExchange(engine, settings.sim, updates)]
    return []


def _listen(host: str, port: int) -> socket.socket:
    try:
        return listen(host, port)
    except OSError as error:
        raise ServeError(f"the API cannot listen on {host}:{port}: {error.strerror}") from None


async def serve_api(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    client: CampaignClient | None = None,
    engine: AsyncEngine | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Serve the API in the current event loop until cancelled (or, run alone, until
    SIGINT/SIGTERM), then shut down gracefully: requests finish, prices are flushed.

    What is not given is connected first, so that an unreachable Temporal or database fails
    here, with its error, rather than inside the server. ``sock`` is an already listening
    socket (tests bind port 0), closed at the end like one bound here from ``host:port``."""
    async with AsyncExitStack() as resources:
        if sock is None and (problem := exposure_problem(settings, host)):
            raise ServeError(problem)
        listening = sock or _listen(host, port)
        resources.callback(listening.close)
        serving_socket = with_nodelay(listening)  # a test's socket may be of protocol 0
        if serving_socket is not listening:
            resources.callback(serving_socket.close)
        if problem := exposure_problem(settings, listening.getsockname()[0]):
            raise ServeError(problem)
        if client is None:
            try:
                client = await CampaignClient.connect(settings)
            except RuntimeError as error:
                raise ServeError(
                    f"cannot reach Temporal at {settings.temporal_address} "
                    f"(namespace {settings.temporal_namespace}): {error}"
                ) from None
        if engine is None:
            try:
                engine = await prepare_database(settings)
            except (OSError, ValueError, SQLAlchemyError) as error:
                raise ServeError(f"cannot prepare the database: {error}") from None
            resources.push_async_callback(engine.dispose)
        config = uvicorn.Config(
            create_app(settings, client=client, engine=engine),
            log_config=None,  # the process's logging (structlog) stays as configured
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        bound_host, bound_port = listening.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        log.info(
            "api_listening",
            url=f"http://{shown}:{bound_port}",
            docs="/docs",
            policy_id=client.policy.policy_id,
            policy_file=str(settings.policy_file or "defaults"),
            allowed_hosts=",".join(settings.api_allowed_hosts),
        )
        if not is_loopback(bound_host) and settings.api_allowed_hosts == LOOPBACK_NAMES:
            log.warning(
                "api_answers_loopback_names_only",
                hint="other machines get 400 until API_ALLOWED_HOSTS names this one as they "
                "call it (e.g. API_ALLOWED_HOSTS=campaigns.internal,10.0.0.5)",
            )
        serving = asyncio.create_task(server.serve(sockets=[serving_socket]))
        try:
            await asyncio.shield(serving)
        except asyncio.CancelledError:
            # Cancelled from outside (the dev stack stopping): stop like on SIGTERM.
            server.should_exit = True
            await serving
            raise
