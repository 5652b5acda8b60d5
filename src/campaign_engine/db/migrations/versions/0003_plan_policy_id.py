"""the policy that decided each allocation plan

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "allocation_plans",
        sa.Column(
            "policy_id",
            sa.String(length=16),
            nullable=True,
            comment="id of the policy that decided; null for plans decided before it was kept",
        ),
    )


def downgrade() -> None:
    op.drop_column("allocation_plans", "policy_id")
