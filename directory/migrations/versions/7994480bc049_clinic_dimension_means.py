"""clinics.dimension_means: each rating dimension's mean, cached on the clinic"""

import sqlalchemy as sa

from directory.migrations.kit import columns_added

revision = "7994480bc049"
down_revision = "e09b67161d88"

upgrade, downgrade = columns_added(
    "clinics", sa.Column("dimension_means", sa.JSON(), nullable=True)
)
