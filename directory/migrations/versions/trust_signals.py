"""trust: origin events, stored similarity matches, more photo hashes, down-weight notes"""

import sqlalchemy as sa
from alembic import op

import directory.models._base
from directory.migrations.kit import add_columns, drop_columns, drop_tables

revision = "trust0001"
down_revision = "mod0001"


def upgrade():
    op.create_table(
        "origin_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("item_type", sa.String(length=20), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("address_hash", sa.String(length=64), nullable=True),
        sa.Column("network_hash", sa.String(length=64), nullable=True),
        sa.Column("device_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", directory.models._base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("origin_events", schema=None) as batch_op:
        batch_op.create_index("ix_origin_events_address", ["address_hash"], unique=False)
        batch_op.create_index("ix_origin_events_network", ["network_hash"], unique=False)
        batch_op.create_index("ix_origin_events_device", ["device_hash"], unique=False)
        batch_op.create_index("ix_origin_events_item", ["item_type", "item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_origin_events_user_id"), ["user_id"], unique=False)

    op.create_table(
        "similarity_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("item_type", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("other_type", sa.String(length=20), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("how", sa.String(length=20), nullable=False),
        sa.Column("created_at", directory.models._base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "kind", "item_type", "item_id", "other_type", "other_id", name="uq_similarity_pair"
        ),
    )
    with op.batch_alter_table("similarity_matches", schema=None) as batch_op:
        batch_op.create_index("ix_similarity_item", ["item_type", "item_id"], unique=False)
        batch_op.create_index("ix_similarity_other", ["other_type", "other_id"], unique=False)

    op.create_table(
        "text_bands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_type", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("text_bands", schema=None) as batch_op:
        batch_op.create_index("ix_text_bands_key", ["band", "bucket"], unique=False)
        batch_op.create_index("ix_text_bands_item", ["item_type", "item_id"], unique=False)

    add_columns(
        "photos",
        sa.Column("phash_mirror", sa.String(length=16), nullable=True),
        sa.Column("phash_centre", sa.String(length=16), nullable=True),
        sa.Column("phash_centre_mirror", sa.String(length=16), nullable=True),
        sa.Column("colour_print", sa.String(length=96), nullable=True),
    )
    add_columns(
        "clinics",
        sa.Column("down_weighted", sa.JSON(), nullable=True),
        sa.Column("score_cap", sa.Float(), nullable=True),
    )

def downgrade():
    drop_columns("clinics", "score_cap", "down_weighted")
    drop_columns("photos", "colour_print", "phash_centre_mirror", "phash_centre", "phash_mirror")
    drop_tables("text_bands", "similarity_matches", "origin_events")
