"""initial schema"""

import sqlalchemy as sa
from alembic import op

import directory.models._base
from directory.migrations.kit import drop_tables

revision = "c1f2bc67c0b8"
down_revision = None


def upgrade():
    op.create_table('search_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_outbox'))
    )
    with op.batch_alter_table('search_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_outbox_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=80), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('email_verified_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('password_changed_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_confirmed_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signup_origin', sa.String(length=64), nullable=True),
    sa.CheckConstraint("role IN ('consumer', 'clinic_owner', 'moderator', 'admin')", name=op.f('ck_users_role_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('session_token', name=op.f('uq_users_session_token'))
    )
    op.create_table('clinics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('postal_code', sa.String(length=20), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('region', sa.String(length=120), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('services', sa.JSON(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('price_min', sa.Integer(), nullable=True),
    sa.Column('price_max', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('year_founded', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('quality_score', sa.Float(), nullable=True),
    sa.Column('effective_weight', sa.Float(), nullable=False),
    sa.Column('review_count', sa.Integer(), nullable=False),
    sa.Column('verified_count', sa.Integer(), nullable=False),
    sa.Column('correction_count', sa.Integer(), nullable=False),
    sa.Column('healed_count', sa.Integer(), nullable=False),
    sa.Column('result_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_clinics_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_clinics_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinics')),
    sa.UniqueConstraint('slug', name=op.f('uq_clinics_slug'))
    )
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.create_index('ix_clinics_city', ['city'], unique=False)
        batch_op.create_index('ix_clinics_country', ['country'], unique=False)
        batch_op.create_index('ix_clinics_status_quality', ['status', 'quality_score'], unique=False)

    op.create_table('clinic_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_clinic_changes_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_clinic_changes_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_changes'))
    )
    with op.batch_alter_table('clinic_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_changes_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('clinic_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('role_at_clinic', sa.String(length=120), nullable=False),
    sa.Column('business_email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('evidence_links', sa.Text(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_clinic_claims_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_clinic_claims_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_claims'))
    )
    with op.batch_alter_table('clinic_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_claims_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clinic_claims_user_id'), ['user_id'], unique=False)

    op.create_table('clinic_score_months',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('quality_score', sa.Float(), nullable=True),
    sa.Column('review_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_clinic_score_months_clinic_id_clinics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_score_months')),
    sa.UniqueConstraint('clinic_id', 'month', name=op.f('uq_clinic_score_months_clinic_id_month'))
    )
    op.create_table('clinic_view_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_clinic_view_days_clinic_id_clinics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_view_days')),
    sa.UniqueConstraint('clinic_id', 'day', name=op.f('uq_clinic_view_days_clinic_id_day'))
    )
    op.create_table('moderation_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=80), nullable=False),
    sa.Column('item_type', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=True),
    sa.Column('subject_user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('reason_code', sa.String(length=40), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('previous_status', sa.String(length=20), nullable=True),
    sa.Column('new_status', sa.String(length=20), nullable=True),
    sa.Column('automated', sa.Boolean(), nullable=False),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('item_submitted_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_moderation_decisions_clinic_id_clinics'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['moderator_id'], ['users.id'], name=op.f('fk_moderation_decisions_moderator_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subject_user_id'], ['users.id'], name=op.f('fk_moderation_decisions_subject_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_decisions'))
    )
    with op.batch_alter_table('moderation_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_decisions_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index('ix_moderation_decisions_created', ['created_at'], unique=False)
        batch_op.create_index('ix_moderation_decisions_item', ['item_type', 'item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_moderation_decisions_moderator_id'), ['moderator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_moderation_decisions_subject_user_id'), ['subject_user_id'], unique=False)

    op.create_table('practitioners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('years_practice', sa.Integer(), nullable=True),
    sa.Column('training', sa.Text(), nullable=True),
    sa.Column('retired_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('quality_score', sa.Float(), nullable=True),
    sa.Column('effective_weight', sa.Float(), nullable=False),
    sa.Column('review_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_practitioners_clinic_id_clinics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practitioners'))
    )
    with op.batch_alter_table('practitioners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practitioners_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('target_type', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('by_clinic_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['by_clinic_id'], ['clinics.id'], name=op.f('fk_reports_by_clinic_id_clinics'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_reports_reporter_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_by_clinic_id'), ['by_clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index('ix_reports_target', ['target_type', 'target_id'], unique=False)

    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('item_type', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('appellant_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appellant_id'], ['users.id'], name=op.f('fk_appeals_appellant_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_appeals_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decision_id'], ['moderation_decisions.id'], name=op.f('fk_appeals_decision_id_moderation_decisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
    sa.UniqueConstraint('item_type', 'item_id', name='uq_appeals_once_per_item')
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_appellant_id'), ['appellant_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('treatment_type', sa.String(length=20), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('last_session_month', sa.Date(), nullable=False),
    sa.Column('overall', sa.Integer(), nullable=False),
    sa.Column('realism', sa.Integer(), nullable=True),
    sa.Column('hairline', sa.Integer(), nullable=True),
    sa.Column('pigment', sa.Integer(), nullable=True),
    sa.Column('dots', sa.Integer(), nullable=True),
    sa.Column('healing', sa.Integer(), nullable=True),
    sa.Column('care', sa.Integer(), nullable=True),
    sa.Column('needed_correction', sa.Boolean(), nullable=False),
    sa.Column('price_paid', sa.Integer(), nullable=True),
    sa.Column('price_currency', sa.String(length=3), nullable=True),
    sa.Column('title', sa.String(length=140), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('verified_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verification_note', sa.Text(), nullable=True),
    sa.Column('hidden_pending_report', sa.Boolean(), nullable=False),
    sa.Column('origin_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('care IS NULL OR (care >= 1 AND care <= 5)', name=op.f('ck_reviews_care_1_to_5')),
    sa.CheckConstraint('dots IS NULL OR (dots >= 1 AND dots <= 5)', name=op.f('ck_reviews_dots_1_to_5')),
    sa.CheckConstraint('hairline IS NULL OR (hairline >= 1 AND hairline <= 5)', name=op.f('ck_reviews_hairline_1_to_5')),
    sa.CheckConstraint('healing IS NULL OR (healing >= 1 AND healing <= 5)', name=op.f('ck_reviews_healing_1_to_5')),
    sa.CheckConstraint('overall IS NULL OR (overall >= 1 AND overall <= 5)', name=op.f('ck_reviews_overall_1_to_5')),
    sa.CheckConstraint('pigment IS NULL OR (pigment >= 1 AND pigment <= 5)', name=op.f('ck_reviews_pigment_1_to_5')),
    sa.CheckConstraint('realism IS NULL OR (realism >= 1 AND realism <= 5)', name=op.f('ck_reviews_realism_1_to_5')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_reviews_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_reviews_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioners.id'], name=op.f('fk_reviews_practitioner_id_practitioners'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_reviews_verified_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('clinic_id', 'author_id', name='uq_reviews_one_per_user_per_clinic')
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_reviews_clinic_status_created', ['clinic_id', 'status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_origin_hash'), ['origin_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_practitioner_id'), ['practitioner_id'], unique=False)

    op.create_table('clinic_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_clinic_replies_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_clinic_replies_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_clinic_replies_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_replies')),
    sa.UniqueConstraint('review_id', name=op.f('uq_clinic_replies_review_id'))
    )
    with op.batch_alter_table('clinic_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_replies_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('followups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('healing', sa.Integer(), nullable=True),
    sa.Column('needed_correction', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('healing IS NULL OR (healing >= 1 AND healing <= 5)', name=op.f('ck_followups_healing_1_to_5')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_followups_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followups'))
    )
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followups_review_id'), ['review_id'], unique=False)

    op.create_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=True),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.Column('clinic_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('storage_name', sa.String(length=80), nullable=False),
    sa.Column('thumb_name', sa.String(length=80), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('phash', sa.String(length=32), nullable=False),
    sa.Column('consent_confirmed', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_photos_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_photos_review_id_reviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_photos_uploader_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
    sa.UniqueConstraint('storage_name', name=op.f('uq_photos_storage_name')),
    sa.UniqueConstraint('thumb_name', name=op.f('uq_photos_thumb_name'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_phash'), ['phash'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_review_id'), ['review_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_uploader_id'), ['uploader_id'], unique=False)

    op.create_table('result_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('before_photo_id', sa.Integer(), nullable=True),
    sa.Column('after_photo_id', sa.Integer(), nullable=True),
    sa.Column('healed_photo_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=160), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('treatment_type', sa.String(length=20), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('months_since_last_session', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('skin_type', sa.Integer(), nullable=False),
    sa.Column('hair_colour', sa.String(length=20), nullable=False),
    sa.Column('goal', sa.String(length=20), nullable=False),
    sa.Column('consent_confirmed', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', directory.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', directory.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['after_photo_id'], ['photos.id'], name=op.f('fk_result_cases_after_photo_id_photos'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['before_photo_id'], ['photos.id'], name=op.f('fk_result_cases_before_photo_id_photos'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_result_cases_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['healed_photo_id'], ['photos.id'], name=op.f('fk_result_cases_healed_photo_id_photos'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioners.id'], name=op.f('fk_result_cases_practitioner_id_practitioners'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_result_cases_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result_cases'))
    )
    with op.batch_alter_table('result_cases', schema=None) as batch_op:
        batch_op.create_index('ix_result_cases_clinic_status', ['clinic_id', 'status', 'created_at'], unique=False)


def downgrade():
    drop_tables(
        "result_cases",
        "photos",
        "followups",
        "clinic_replies",
        "reviews",
        "appeals",
        "reports",
        "practitioners",
        "moderation_decisions",
        "clinic_view_days",
        "clinic_score_months",
        "clinic_claims",
        "clinic_changes",
        "clinics",
        "users",
        "search_outbox",
    )
