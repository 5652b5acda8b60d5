"""outbox of events to announce

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("audit_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(["audit_seq"], ["audit_trail.seq"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("audit_seq"),
        comment="audit trail entries not yet announced: written with them, deleted once relayed",
    )


def downgrade() -> None:
    op.drop_table("outbox")
