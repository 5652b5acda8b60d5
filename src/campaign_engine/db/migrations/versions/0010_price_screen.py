"""bad prints: each symbol's last accepted price, and the updates held back

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 14:00:00

``POST /prices`` screens every update against its symbol's last accepted price before it
enters the intake (SPEC section 11, domain/print_screen.py): one further than the policy's band
is held in ``price_holds`` until the next update confirms or refutes it, or an operator
releases or discards it. Each symbol's reference starts from the newest row the intake still
holds, so a symbol already trading is screened from its first update after the upgrade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "price_screens",
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.Numeric(), nullable=False, comment="the last accepted price"),
        sa.PrimaryKeyConstraint("symbol"),
        comment="per symbol, the last accepted price new updates are screened against",
    )
    op.create_table(
        "price_holds",
        sa.Column("hold_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("price_update", sa.dialects.postgresql.JSONB(), nullable=False),
        sa.Column(
            "reference", sa.Numeric(), nullable=False, comment="the last accepted price then"
        ),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True, comment="why it is no longer held"),
        sa.CheckConstraint(
            "status IN ('held', 'confirmed', 'released', 'discarded')",
            name="ck_price_holds_status",
        ),
        sa.PrimaryKeyConstraint("hold_id"),
        comment="price updates held back as bad prints, and what became of each",
    )
    op.create_index(
        "ux_price_holds_one_held",
        "price_holds",
        ["symbol"],
        unique=True,
        postgresql_where=sa.text("status = 'held'"),
    )
    op.execute(
        """
        INSERT INTO price_screens (symbol, reference)
        SELECT DISTINCT ON (symbol) symbol,
               COALESCE(price_update->>'price', price_update->>'close')::numeric
        FROM price_intake
        ORDER BY symbol, seq DESC
        """
    )


def downgrade() -> None:
    op.drop_index("ux_price_holds_one_held", table_name="price_holds")
    op.drop_table("price_holds")
    op.drop_table("price_screens")
