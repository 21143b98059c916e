"""Stored trust signals of waiting items, so queues order by risk (risk0001)."""

import sqlalchemy as sa
from alembic import op

from directory.models._base import UTCDateTime

revision, down_revision = "risk0001", "harden0001"


def upgrade():
    op.create_table(
        "queue_risks",
        sa.Column("item_type", sa.String(20), primary_key=True),
        sa.Column("item_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("risk", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("keys", sa.String(400), nullable=False, server_default="|"),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_queue_risks_order", "queue_risks", ["item_type", "risk"])


def downgrade():
    op.drop_index("ix_queue_risks_order", table_name="queue_risks")
    op.drop_table("queue_risks")
