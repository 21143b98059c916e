"""page versions for the page cache"""

import sqlalchemy as sa
from alembic import op

revision = "perf0001"
down_revision = "results0001"


def upgrade():
    op.create_table(
        "page_versions",
        sa.Column("scope", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_page_versions")),
    )


def downgrade():
    op.drop_table("page_versions")
