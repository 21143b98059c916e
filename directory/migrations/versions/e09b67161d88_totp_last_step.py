"""users.totp_last_step: the last TOTP time step accepted, so no code is used twice"""

import sqlalchemy as sa

from directory.migrations.kit import columns_added

revision = "e09b67161d88"
down_revision = "c1f2bc67c0b8"

upgrade, downgrade = columns_added(
    "users", sa.Column("totp_last_step", sa.Integer(), nullable=True)
)
