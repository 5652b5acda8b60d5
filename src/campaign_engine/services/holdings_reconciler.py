"""The holdings reconciler: compares the broker's account with the campaigns' open shares, one
broker read per symbol per round, and signals only the campaigns whose shares are missing.

Shares sold at the broker by hand (while the engine looked away) show up nowhere but in the
account's position. Campaign runs used to ask for it themselves, every one on a timer of its
own: at 2,000 open campaigns those polls alone took most of a 2-core machine. One reconciler
per deployment (run beside every worker, one round at a time under a PostgreSQL advisory lock)
does it for all of them, every ``interval``:

1. one query: every symbol's campaigns holding shares (each with the revision it was persisted
   at) and whether an order on the symbol is open;
2. for each symbol held with no order in flight, the broker's position, once;
3. the same query again for those symbols: a symbol whose campaigns changed meanwhile (another
   revision, other open shares) or that has an order in flight now is left for the next round.
   An order is persisted before it is placed and its fills are booked by a new revision, so
   the same figures on both sides of the broker's reading mean the reading is comparable;
4. the account's shares are apportioned among the symbol's campaigns (``domain.account``), and
   each campaign left short gets a ``holding_report`` signal with what it may count on and the
   revision that was computed against. The campaign books the difference only if it is still
   at that revision with nothing in flight (``workflows/broker_link.py``);
5. every difference is reported (``holdings_difference`` in the log, the
   ``campaign_holdings_differences`` gauge and its ``_total`` counter): a symbol whose account
   position is not what its campaigns hold open (short or surplus), a campaign that has ended
   and still holds shares (an exit the broker would not take: flat means flat, even when the
   counts agree), and a symbol whose campaigns have all ended lately (saved within
   ``ENDED_LOOKBACK``) holding nothing while the account holds some.

A round that fails (the database, the broker or Temporal down) is tried again after a backoff,
with one ``dependency_down`` and one ``dependency_recovered`` line per outage.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.service import RPCError, RPCStatusCode

from campaign_engine.brokers.protocol import Broker
from campaign_engine.db.holdings import SymbolBook, ended_flat_symbols, symbol_books
from campaign_engine.domain.account import apportion, claimed
from campaign_engine.runtime.background import BackgroundLoop
from campaign_engine.runtime.backoff import Backoff, Retry
from campaign_engine.temporal.messages import HOLDING_REPORT, HoldingReport, workflow_id_for

log = structlog.get_logger("campaign_engine.holdings_reconciler")

# Like the outbox relay's: one fixed bigint for every reconciler of the deployment, "campaign
# holdings" in 8 ASCII bytes.
RECONCILER_LOCK_KEY = int.from_bytes(b"cmpgnhld", "big")

# Broker reads in flight at once: a round over hundreds of symbols is not one long queue, nor
# a burst that takes a rate-limited broker's whole budget (Alpaca: 200 requests a minute).
BROKER_READS = 4

# A campaign still short by the same figures at the same revision is not signalled again for
# this many rounds: every signal is an event in its run's history, and a run its worker is slow
# to reach (a worker restarting) would pile them up. A report a run ignored as stale comes with
# a new revision anyway; the resend covers a run that ended without booking it (and a new run
# loaded at the same revision).
RESEND_AFTER_ROUNDS = 5

# How far back symbols whose campaigns all ended are still compared with the account (each is
# one broker read per round).
ENDED_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class HoldingDifference:
    """What the account holds of a symbol is not what the campaigns hold open."""

    symbol: str
    held: Decimal
    """Shares the broker's account holds."""
    claimed: Decimal
    """Open shares of the symbol's campaigns."""
    ended_campaigns: tuple[str, ...]
    """Campaigns that have ended and still hold shares."""


class HoldingReports(Protocol):
    async def deliver(self, report: HoldingReport) -> bool:
        """Signal the campaign; False when it has no running workflow."""
        ...


class CampaignHoldingReports:
    """Reports as the campaign workflow's ``holding_report`` signal."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def deliver(self, report: HoldingReport) -> bool:
        handle = self._client.get_workflow_handle(workflow_id_for(report.campaign_id))
        try:
            await handle.signal(HOLDING_REPORT, report)
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            return False
        return True


@dataclass(frozen=True, slots=True)
class Round:
    read: tuple[str, ...]
    """Symbols whose position was read at the broker."""
    skipped: tuple[str, ...]
    """Symbols read but left for the next round (their campaigns changed meanwhile)."""
    reports: tuple[HoldingReport, ...]
    """Campaigns found short."""
    signalled: tuple[HoldingReport, ...]
    """Those signalled this round (not those signalled the same finding lately)."""
    differences: tuple[HoldingDifference, ...] = ()
    """Every difference found this round (see step 5)."""


class _Failed(Exception):
    def __init__(self, what: str, error: Exception) -> None:
        super().__init__(f"{what}: {error}")
        self.what, self.error = what, error


@contextlib.asynccontextmanager
async def _depending_on(what: str) -> AsyncIterator[None]:
    try:
        yield
    except _Failed:
        raise
    except Exception as error:
        raise _Failed(what, error) from error


class HoldingsReconciler(BackgroundLoop):
    """Runs a round every ``interval`` while entered (``async with``; leaving stops it at once:
    nothing of a round needs finishing, the next starts over); ``reconcile_once`` runs one round
    (None when another reconciler holds the lock)."""

    def __init__(
        self,
        engine: AsyncEngine,
        broker: Broker,
        reports: HoldingReports,
        *,
        interval: timedelta,
        resend_after_rounds: int = RESEND_AFTER_ROUNDS,
        meter: MetricMeter | None = None,
        ended_lookback: timedelta = ENDED_LOOKBACK,
    ) -> None:
        if interval <= timedelta(0):
            raise ValueError("interval must be positive")
        super().__init__("holdings-reconciler")
        # Each statement its own transaction: the second read must see what was committed
        # after the first, whatever the server's default isolation; the session's advisory
        # lock outlives the statements.
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._broker = broker
        self._reports = reports
        self._interval = interval.total_seconds()
        self._resend_after = resend_after_rounds
        self._ended_lookback = ended_lookback
        meter = meter or MetricMeter.noop
        self._differences_now = meter.create_gauge(
            "campaign_holdings_differences",
            "symbols and ended campaigns whose broker holding differs, in the last round",
        )
        self._differences_seen = meter.create_counter(
            "campaign_holdings_reconciler_differences", "holding differences found, over all rounds"
        )
        self._rounds_done = meter.create_counter(
            "campaign_holdings_reconciler_rounds", "rounds of the holdings reconciler"
        )
        self._rounds = 0
        # Each campaign signalled and still short: the report sent, and the round it was in.
        self._sent: dict[str, tuple[HoldingReport, int]] = {}
        start = min(1.0, self._interval)
        self._retries = {
            what: Retry(
                what,
                log,
                loop="holdings_reconciler",
                backoff=Backoff(start=start, cap=self._interval),
            )
            for what in ("database", "broker", "temporal")
        }

    async def _run(self) -> None:
        while not self.stopping:
            pause = self._interval
            try:
                await self.reconcile_once()
            except _Failed as failure:
                pause = self._retries[failure.what].failed(failure.error)
            await self._pause(pause)

    async def reconcile_once(self) -> Round | None:
        async with _depending_on("database"), self._engine.connect() as conn:
            lock = select(func.pg_try_advisory_lock(RECONCILER_LOCK_KEY))
            if not await conn.scalar(lock):
                log.debug("holdings_round_skipped", reason="another reconciler holds the lock")
                return None
            try:
                return await self._round(conn)
            finally:
                await conn.execute(select(func.pg_advisory_unlock(RECONCILER_LOCK_KEY)))

    async def _round(self, conn: AsyncConnection) -> Round:
        since = datetime.now(UTC) - self._ended_lookback
        async with _depending_on("database"):
            before = await symbol_books(conn)
            flat_before = [s for s in await ended_flat_symbols(conn, since) if s not in before]
        self._retries["database"].succeeded()
        quiet = [s for s, book in before.items() if not book.orders_in_flight]
        async with _depending_on("broker"):
            held = await self._positions([*quiet, *flat_before])
        self._retries["broker"].succeeded()
        async with _depending_on("database"):
            after = await symbol_books(conn, quiet) if quiet else {}
            flat_after = set(await ended_flat_symbols(conn, since)) if flat_before else set()
        skipped = tuple(s for s in quiet if not _unchanged(before[s], after.get(s)))
        reports: list[HoldingReport] = []
        differences: list[HoldingDifference] = []
        for symbol in quiet:
            if symbol not in skipped:
                reports += _short(symbol, held[symbol], before[symbol])
                differences += _differences(symbol, held[symbol], before[symbol])
        for symbol in flat_before:
            if symbol in flat_after and held[symbol] != 0:
                differences.append(HoldingDifference(symbol, held[symbol], Decimal(0), ()))
        self._rounds += 1
        self._rounds_done.add(1)
        self._report(differences)
        signalled = await self._signal(reports)
        log.debug(
            "holdings_round",
            symbols_read=len(quiet) + len(flat_before),
            skipped=len(skipped),
            campaigns_short=len(reports),
            campaigns_signalled=len(signalled),
            differences=len(differences),
        )
        return Round(
            read=tuple(quiet),
            skipped=skipped,
            reports=tuple(reports),
            signalled=signalled,
            differences=tuple(differences),
        )

    def _report(self, differences: Sequence[HoldingDifference]) -> None:
        self._differences_now.set(len(differences))
        if differences:
            self._differences_seen.add(len(differences))
        for d in differences:
            log.warning(
                "holdings_difference",
                symbol=d.symbol,
                held=str(d.held),
                claimed=str(d.claimed),
                ended_campaigns=list(d.ended_campaigns),
            )

    async def _signal(self, reports: Sequence[HoldingReport]) -> tuple[HoldingReport, ...]:
        # Only the campaigns short now are remembered: one that was short and is not (or is
        # at another revision) is signalled at once if it is short again.
        sent, self._sent = self._sent, {}
        signalled: list[HoldingReport] = []
        async with _depending_on("temporal"):
            for report in reports:
                earlier = sent.get(report.campaign_id)
                if earlier is not None and self._sent_lately(earlier, report):
                    self._sent[report.campaign_id] = earlier
                    continue
                if await self._deliver(report):
                    self._sent[report.campaign_id] = (report, self._rounds)
                    signalled.append(report)
        self._retries["temporal"].succeeded()
        return tuple(signalled)

    async def _positions(self, symbols: Sequence[str]) -> dict[str, Decimal]:
        slots = asyncio.Semaphore(BROKER_READS)

        async def read(symbol: str) -> Decimal:
            async with slots:
                return await self._broker.position(symbol)

        figures = await asyncio.gather(*(read(s) for s in symbols))
        return dict(zip(symbols, figures, strict=True))

    def _sent_lately(self, earlier: tuple[HoldingReport, int], report: HoldingReport) -> bool:
        sent, in_round = earlier
        return sent == report and self._rounds - in_round < self._resend_after

    async def _deliver(self, report: HoldingReport) -> bool:
        if await self._reports.deliver(report):
            return True
        log.warning(
            "holding_report_for_ended_campaign",
            campaign_id=report.campaign_id,
            symbol=report.symbol,
        )
        return False


def _differences(symbol: str, held: Decimal, book: SymbolBook) -> list[HoldingDifference]:
    """The symbol's difference, if any: the account holds other than its campaigns' open
    shares, or a campaign that has ended holds some (though the counts agree)."""
    claims = claimed(book.claims)
    if held == claims and not book.ended:
        return []
    return [HoldingDifference(symbol, held, claims, book.ended)]


def _unchanged(before: SymbolBook, after: SymbolBook | None) -> bool:
    return after is not None and not after.orders_in_flight and after.claims == before.claims


def _short(symbol: str, held: Decimal, book: SymbolBook) -> list[HoldingReport]:
    """A report for each campaign that cannot count on all its open shares."""
    claims = claimed(book.claims)
    if held > claims:
        # Shares bought outside the engine, or a fill the engine never heard of: nothing to
        # book (a campaign only ever books shares missing), but worth knowing.
        log.info("holdings_surplus", symbol=symbol, held=str(held), claimed=str(claims))
        return []
    reports = [
        HoldingReport(
            campaign_id=share.claim.campaign_id,
            symbol=symbol,
            available=share.available,
            revision=share.claim.revision,
        )
        for share in apportion(held, book.claims)
        if share.short
    ]
    if reports:
        log.warning(
            "holdings_short",
            symbol=symbol,
            held=str(held),
            claimed=str(claims),
            campaigns=[r.campaign_id for r in reports],
        )
    return reports
