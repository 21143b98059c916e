"""second-factor lockout: failures since the last good code, locked until"""

import sqlalchemy as sa

import directory.models._base
from directory.migrations.kit import columns_added

revision = "harden0001"
down_revision = "ops0001"

upgrade, downgrade = columns_added(
    "users",
    sa.Column("totp_failures", sa.Integer(), server_default="0", nullable=False),
    sa.Column("totp_locked_until", directory.models._base.UTCDateTime(), nullable=True),
)
