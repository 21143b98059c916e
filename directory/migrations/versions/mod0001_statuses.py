"""Moderation statuses as CHECK constraints; claim e-mail codes; queue holds."""

import sqlalchemy as sa
from alembic import op

import directory.models._base
from directory.migrations.kit import add_columns, drop_columns, drop_tables

revision = "mod0001"
down_revision = "7994480bc049"

ITEM = ("pending", "published", "rejected", "removed")
CHECKS = {
    "reviews": ITEM,
    "followups": ITEM,
    "photos": ITEM,
    "result_cases": ITEM,
    "clinics": ("pending", "listed", "claimed", "verified", "suspended", "rejected"),
    "clinic_claims": ("pending", "approved", "rejected"),
    "reports": ("open", "upheld", "dismissed"),
    "appeals": ("open", "upheld", "denied"),
    "clinic_replies": ("published", "removed"),
}


def _in(values):
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    for table, values in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(op.f(f"ck_{table}_status_known"), _in(values))
    add_columns(
        "clinic_claims",
        sa.Column("email_code_hash", sa.String(length=64), nullable=True),
        sa.Column("email_code_sent_at", directory.models._base.UTCDateTime(), nullable=True),
        sa.Column("email_code_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("email_confirmed_at", directory.models._base.UTCDateTime(), nullable=True),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index("ix_reviews_status_created", ["status", "created_at"], unique=False)
    op.create_table(
        "queue_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_type", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", directory.models._base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["users.id"],
            name=op.f("fk_queue_holds_moderator_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_holds")),
        sa.UniqueConstraint("item_type", "item_id", name="uq_queue_holds_item"),
    )
    with op.batch_alter_table("queue_holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_queue_holds_moderator_id"), ["moderator_id"], unique=False
        )


def downgrade():
    drop_tables("queue_holds")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_reviews_status_created")
    drop_columns(
        "clinic_claims",
        "email_confirmed_at",
        "email_code_attempts",
        "email_code_sent_at",
        "email_code_hash",
    )
    for table in CHECKS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_status_known"), type_="check")
