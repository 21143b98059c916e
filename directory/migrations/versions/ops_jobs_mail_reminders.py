"""ops: outgoing mail table, reminders sent, users.reminders_off_at"""

import sqlalchemy as sa
from alembic import op

import directory.models._base
from directory.migrations.kit import add_columns, drop_columns, drop_tables

revision = "ops0001"
down_revision = "perf0001"


def upgrade():
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_addr", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", directory.models._base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", directory.models._base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", directory.models._base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", directory.models._base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mail")),
    )
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outgoing_mail_status"), ["status"], unique=False)
    op.create_table(
        "reminders_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", directory.models._base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"], ["reviews.id"],
            name=op.f("fk_reminders_sent_review_id_reviews"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders_sent")),
        sa.UniqueConstraint("review_id", "kind", name=op.f("uq_reminders_sent_review_id_kind")),
    )
    add_columns(
        "users",
        sa.Column(
            "reminders_off_at", directory.models._base.UTCDateTime(timezone=True), nullable=True
        ),
    )

def downgrade():
    drop_columns("users", "reminders_off_at")
    drop_tables("reminders_sent", "outgoing_mail")
