"""Every status a moderated row can hold, as StrEnums.

The values are what the database stores (the columns are strings with a CHECK
constraint built by `check()`); a StrEnum member compares equal to its value,
so rows read back as plain strings still match. The transitions between them
live in services.moderation.WORKFLOWS.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint

# Each member's value is its name in lower case (StrEnum's automatic values).

ItemStatus = StrEnum("ItemStatus", "PENDING PUBLISHED REJECTED REMOVED")
"""Testimonials, follow-ups, photos and result cases."""

ClinicStatus = StrEnum("ClinicStatus", "PENDING LISTED CLAIMED VERIFIED SUSPENDED REJECTED")
PUBLIC_CLINIC = (ClinicStatus.LISTED, ClinicStatus.CLAIMED, ClinicStatus.VERIFIED)

ClaimStatus = StrEnum("ClaimStatus", "PENDING APPROVED REJECTED")
ReportStatus = StrEnum("ReportStatus", "OPEN UPHELD DISMISSED")
AppealStatus = StrEnum("AppealStatus", "OPEN UPHELD DENIED")
ReplyStatus = StrEnum("ReplyStatus", "PUBLISHED REMOVED")


def check(enum: type[StrEnum], column: str = "status") -> CheckConstraint:
    """CHECK (status IN (...)), named `<column>_known` like users.role_known."""
    values = ", ".join(f"'{m.value}'" for m in enum)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_known")
