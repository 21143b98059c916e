"""page versions for the page cache

Revision ID: perf0001
Revises: trust0001
Create Date: 2026-12-01 22:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "perf0001"
down_revision = "trust0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "page_versions",
        sa.Column("scope", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_page_versions")),
    )


def downgrade():
    op.drop_table("page_versions")
