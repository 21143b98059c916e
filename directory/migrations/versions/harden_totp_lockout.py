"""second-factor lockout: failures since the last good code, locked until

Revision ID: harden0001
Revises: perf0001, results0001
Create Date: 2026-12-01 22:10:00

"""

import sqlalchemy as sa
from alembic import op

import directory.models._base

# revision identifiers, used by Alembic.
revision = "harden0001"
down_revision = ("perf0001", "results0001")  # also joins the two heads main has
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("totp_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "totp_locked_until", directory.models._base.UTCDateTime(), nullable=True
            )
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_locked_until")
        batch_op.drop_column("totp_failures")
