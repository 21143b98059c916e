"""Every status a moderated row can hold, as StrEnums.

The values are what the database stores (the columns are strings with a CHECK
constraint built by `check()`); a StrEnum member compares equal to its value,
so rows read back as plain strings still match. The transitions between them
live in services.moderation.WORKFLOWS.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint


class ItemStatus(StrEnum):
    """Testimonials, follow-ups, photos and result cases."""

    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    REMOVED = "removed"


class ClinicStatus(StrEnum):
    PENDING = "pending"
    LISTED = "listed"
    CLAIMED = "claimed"
    VERIFIED = "verified"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


PUBLIC_CLINIC = (ClinicStatus.LISTED, ClinicStatus.CLAIMED, ClinicStatus.VERIFIED)


class ClaimStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ReportStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class AppealStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    DENIED = "denied"


class ReplyStatus(StrEnum):
    PUBLISHED = "published"
    REMOVED = "removed"


def check(enum: type[StrEnum], column: str = "status") -> CheckConstraint:
    """CHECK (status IN (...)), named `<column>_known` like users.role_known."""
    values = ", ".join(f"'{m.value}'" for m in enum)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_known")
