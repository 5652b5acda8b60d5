"""the audit trail as a stream (commit order, a notification per commit) and price bars

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01 07:00:00

``seq`` is given when a row is inserted, not when it commits: two saves committing in the
other order would let a reader that remembers the highest ``seq`` it saw skip the row committed
second. Each row therefore also records its transaction id (``txid``); a reader takes, in
``(txid, seq)`` order, only rows of transactions older than every one still running (below its
snapshot's xmin), so a row can never appear behind a position already read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Delivered at commit, once per transaction whatever number of rows it appended (PostgreSQL
# folds identical notifications of one transaction).
_NOTIFY = """
CREATE FUNCTION audit_trail_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('campaign_events', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_trail_notify AFTER INSERT ON audit_trail
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_notify();
"""


def upgrade() -> None:
    # Rows recorded before this migration all get its transaction id: they are committed, and
    # ``seq`` orders them among themselves.
    op.add_column(
        "audit_trail",
        sa.Column(
            "txid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
            nullable=False,
            comment="the recording transaction: the stream reads in (txid, seq) order",
        ),
    )
    op.create_index("ix_audit_trail_stream", "audit_trail", ["txid", "seq"], unique=False)
    op.execute(_NOTIFY)
    op.create_table(
        "price_bars",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("high", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("low", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("close", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        comment="prices accepted by the API, as posted, for the dashboard's charts",
    )
    op.create_index("ix_price_bars_symbol_as_of", "price_bars", ["symbol", "as_of"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_price_bars_symbol_as_of", table_name="price_bars")
    op.drop_table("price_bars")
    op.execute("DROP TRIGGER IF EXISTS audit_trail_notify ON audit_trail")
    op.execute("DROP FUNCTION IF EXISTS audit_trail_notify()")
    op.drop_index("ix_audit_trail_stream", table_name="audit_trail")
    op.drop_column("audit_trail", "txid")
