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

from campaign_engine.api import bars, campaigns, held_prices, portfolio, signals
from campaign_engine.api.dashboard import install_dashboard
from campaign_engine.api.errors import install_error_handlers
from campaign_engine.api.exposure import exposure_problem, install_cors
from campaign_engine.api.live import socket as live_socket
from campaign_engine.api.live.hub import EventHub
from campaign_engine.api.methods import AllowedMethods
from campaign_engine.api.openapi import install_openapi
from campaign_engine.api.services import Services
from campaign_engine.brokers.sim.exchange import SimExchange
from campaign_engine.brokers.updates import CampaignOrderUpdates
from campaign_engine.client import CampaignClient
from campaign_engine.db.settings import prepare_database
from campaign_engine.publisher import DatabaseDirectory, MarketListener
from campaign_engine.publisher_leader import PriceDelivery
from campaign_engine.settings import Settings

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
    API processes on one database, one at a time delivers it (publisher_leader.py), resuming
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
            prices = await resources.enter_async_context(
                PriceDelivery(
                    database,
                    lambda journal: campaign_client.publisher(
                        directory, listeners=listeners, journal=journal
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
    )
    install_error_handlers(app)
    for router in (
        signals.router,
        campaigns.router,
        bars.router,
        held_prices.router,
        portfolio.router,
        portfolio.health,
        live_socket.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(portfolio.health)
    install_dashboard(app)
    install_openapi(app, token_required=settings.bearer_token is not None)
    app.add_middleware(AllowedMethods, routes=app.router.routes)
    install_cors(app, settings)  # outermost: it answers the preflights it allows
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
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
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
        )
        serving = asyncio.create_task(server.serve(sockets=[listening]))
        try:
            await asyncio.shield(serving)
        except asyncio.CancelledError:
            # Cancelled from outside (the dev stack stopping): stop like on SIGTERM.
            server.should_exit = True
            await serving
            raise
