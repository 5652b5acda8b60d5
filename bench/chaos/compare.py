"""What each run left in its database, and the checks that compare the two.

Every id the engine makes is derived from its inputs (campaign ids from symbol and range
start, position ids from campaign and pattern, client order ids from campaign, pattern, leg
and attempt, event ids from campaign, version, correlation and sequence), and the harness
sends the same signal and range ids in both runs, so rows are matched by their own keys. Two
rows are the same when every column is equal except those the database or the wall clock
fills in (``IGNORED``): the audit trail's ``seq``, ``txid`` and ``recorded_at``, an allocation
plan's ``seq``, and the broker book's ``submitted_at`` / ``updated_at``."""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, create_engine, pool, select

from campaign_engine.db.engine import sync_url
from campaign_engine.db.schema import (
    allocation_plans,
    audit_trail,
    broker_orders,
    campaigns,
    orders,
    positions,
)

IGNORED = {
    "audit_trail": {"seq", "txid", "recorded_at"},
    "allocation_plans": {"seq"},
    "broker_orders": {"submitted_at", "updated_at"},
}
TABLES = (campaigns, positions, orders, broker_orders, audit_trail, allocation_plans)
SHOWN = 5  # differences printed per check

Row = dict[str, Any]


@dataclass
class Snapshot:
    tables: dict[str, list[Row]]

    def by_campaign(self, table: str) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = {}
        for row in self.tables[table]:
            grouped.setdefault(row["campaign_id"], []).append(row)
        return grouped


def _plain(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value, sort_keys=True, default=str))
    return None if value is None else str(value)


def snapshot(database_url: str) -> Snapshot:
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    tables: dict[str, list[Row]] = {}
    try:
        with engine.connect() as conn:
            for table in TABLES:
                rows = conn.execute(_ordered(table))
                tables[table.name] = [_row(table, r._mapping) for r in rows]
    finally:
        engine.dispose()
    return Snapshot(tables)


def _ordered(table: Table) -> Any:
    key = table.c.seq if "seq" in table.c else next(iter(table.primary_key.columns))
    return select(table).order_by(key)


def _row(table: Table, mapping: Any) -> Row:
    ignored = IGNORED.get(table.name, set())
    return {k: _plain(v) for k, v in mapping.items() if k not in ignored}


@dataclass
class Check:
    name: str
    passed: int = 0
    failed: int = 0
    differences: list[str] = field(default_factory=list)

    def add(self, ok: bool, difference: str) -> None:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.differences.append(difference)

    def lines(self) -> list[str]:
        head = f"{self.name:<28} {self.passed} passed, {self.failed} failed"
        return [head, *(f"    {d}" for d in self.differences[:SHOWN])] + (
            [f"    ... and {len(self.differences) - SHOWN} more"]
            if len(self.differences) > SHOWN
            else []
        )


def _diff(a: Row | None, b: Row | None) -> str:
    if a is None or b is None:
        return "only in the " + ("fault run" if a is None else "run without faults")
    keys = [k for k in a if a.get(k) != b.get(k)]
    return "; ".join(f"{k}: {a.get(k)!r} vs {b.get(k)!r}" for k in keys[:4])


def _keyed(name: str, clean: Iterable[Row], faulty: Iterable[Row], key: str) -> Check:
    check = Check(name)
    a, b = {r[key]: r for r in clean}, {r[key]: r for r in faulty}
    for k in sorted(a.keys() | b.keys()):
        check.add(a.get(k) == b.get(k), f"{k}: {_diff(a.get(k), b.get(k))}")
    return check


def _grouped(name: str, clean: dict[str, list[Row]], faulty: dict[str, list[Row]]) -> Check:
    """Per campaign: the same rows, in the same order."""
    check = Check(name)
    for campaign in sorted(clean.keys() | faulty.keys()):
        a, b = clean.get(campaign, []), faulty.get(campaign, [])
        if a == b:
            check.add(True, "")
            continue
        first = next(
            (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
        )
        x, y = (a[first] if first < len(a) else None), (b[first] if first < len(b) else None)
        check.add(False, f"{campaign}: {len(a)} vs {len(b)} rows; #{first}: {_diff(x, y)}")
    return check


def _orders_of(snap: Snapshot) -> dict[str, list[Row]]:
    """Each campaign's orders, each with its broker book row (fills included)."""
    book = {r["client_order_id"]: r for r in snap.tables["broker_orders"]}
    joined: dict[str, list[Row]] = {}
    for order in snap.tables["orders"]:
        row = {**order, "broker": book.get(order["client_order_id"])}
        joined.setdefault(order["campaign_id"], []).append(row)
    return joined


def no_duplicates(snap: Snapshot) -> Check:
    """Each order placed once: one book row, its fills never repeated, never more filled than
    ordered, and the engine's filled quantity the book's."""
    check = Check("orders placed once")
    book = {r["client_order_id"]: r for r in snap.tables["broker_orders"]}
    seen: set[str] = set()
    for order in snap.tables["orders"]:
        cid = order["client_order_id"]
        row = book.get(cid)
        fills = row["fills"] if row else []
        ids = [str(f.get("fill_id")) for f in fills]
        filled = sum(float(f.get("quantity", 0)) for f in fills)
        problems = [
            "no broker order" if row is None else "",
            "a fill recorded twice" if len(set(ids)) != len(ids) or seen & set(ids) else "",
            "filled more than ordered" if filled > float(order["quantity"]) else "",
            "filled quantity differs from the book"
            if row and float(order["filled_quantity"]) != float(row["filled_quantity"])
            else "",
        ]
        seen.update(ids)
        found = [p for p in problems if p]
        check.add(not found, f"{cid}: {', '.join(found)}")
    return check


def compare(clean: Snapshot, faulty: Snapshot) -> list[Check]:
    c, f = clean.tables, faulty.tables
    return [
        _keyed("campaigns", c["campaigns"], f["campaigns"], "campaign_id"),
        _keyed("decisions", c["allocation_plans"], f["allocation_plans"], "signal_id"),
        _grouped("positions", clean.by_campaign("positions"), faulty.by_campaign("positions")),
        _grouped("orders and fills", _orders_of(clean), _orders_of(faulty)),
        no_duplicates(faulty),
        _grouped(
            "audit trail", clean.by_campaign("audit_trail"), faulty.by_campaign("audit_trail")
        ),
    ]
