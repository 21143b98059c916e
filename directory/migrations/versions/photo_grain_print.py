"""Photos carry a grain print: their fine detail, which confirms a copy (photo0001)."""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "photo0001", "risk0001"


def upgrade():
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grain_print", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("grain_print")
