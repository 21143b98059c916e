"""results: the author's case on testimonials, proof of treatment, follow-up photos, case evidence"""

import sqlalchemy as sa
from alembic import op

import directory.models._base
from directory.migrations.kit import add_columns, drop_columns

revision = "results0001"
down_revision = "trust0001"


def upgrade():
    add_columns(
        "reviews",
        sa.Column("stage", sa.String(length=20), nullable=True),
        sa.Column("skin_type", sa.Integer(), nullable=True),
        sa.Column("hair_colour", sa.String(length=20), nullable=True),
        sa.Column("goal", sa.String(length=20), nullable=True),
        sa.Column("proof_name", sa.String(length=80), nullable=True),
        sa.Column("proof_mimetype", sa.String(length=40), nullable=True),
        sa.Column("proof_submitted_at", directory.models._base.UTCDateTime(), nullable=True),
        sa.Column("proof_decided_at", directory.models._base.UTCDateTime(), nullable=True),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_reviews_proof_name", ["proof_name"])
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("followup_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_photos_followup_id"), ["followup_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_photos_followup_id_followups", "followups", ["followup_id"], ["id"],
            ondelete="CASCADE",
        )
    add_columns("clinics", sa.Column("case_evidence", sa.JSON(), nullable=True))


def downgrade():
    drop_columns("clinics", "case_evidence")
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_constraint("fk_photos_followup_id_followups", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_photos_followup_id"))
        batch_op.drop_column("followup_id")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_constraint("uq_reviews_proof_name", type_="unique")
    drop_columns(
        "reviews",
        "proof_decided_at",
        "proof_submitted_at",
        "proof_mimetype",
        "proof_name",
        "goal",
        "hair_colour",
        "skin_type",
        "stage",
    )
