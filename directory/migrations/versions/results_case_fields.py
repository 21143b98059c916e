"""results: the author's case on testimonials, proof of treatment, follow-up photos,
like-for-like evidence cached on clinics

Revision ID: results0001
Revises: trust0001
Create Date: 2026-12-01 22:00:00

"""

import sqlalchemy as sa
from alembic import op

import directory.models._base

revision = "results0001"
down_revision = "trust0001"  # chained after main's head at the merge
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("skin_type", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("hair_colour", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("goal", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("proof_name", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("proof_mimetype", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("proof_submitted_at", directory.models._base.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("proof_decided_at", directory.models._base.UTCDateTime(), nullable=True)
        )
        batch_op.create_unique_constraint("uq_reviews_proof_name", ["proof_name"])
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("followup_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_photos_followup_id"), ["followup_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_photos_followup_id_followups", "followups", ["followup_id"], ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_evidence", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.drop_column("case_evidence")
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_constraint("fk_photos_followup_id_followups", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_photos_followup_id"))
        batch_op.drop_column("followup_id")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_constraint("uq_reviews_proof_name", type_="unique")
        for name in (
            "proof_decided_at",
            "proof_submitted_at",
            "proof_mimetype",
            "proof_name",
            "goal",
            "hair_colour",
            "skin_type",
            "stage",
        ):
            batch_op.drop_column(name)
