"""SQLAlchemy models, one module per aggregate."""

from .clinics import (
    Clinic,
    ClinicChange,
    ClinicClaim,
    ClinicScoreMonth,
    ClinicViewDay,
    Practitioner,
)
from .jobs import OutgoingMail, ReminderSent
from .media import Photo
from .moderation import (
    ITEM_TYPES,
    Appeal,
    AuditRowImmutable,
    ModerationDecision,
    QueueHold,
    Report,
)
from .pages import PageVersion
from .results import ResultCase
from .reviews import ClinicReply, FollowUp, Review
from .search import SearchOutbox
from .trust import OriginEvent, QueueRisk, SimilarityMatch, TextBand
from .users import User

__all__ = [
    "ITEM_TYPES",
    "Appeal",
    "AuditRowImmutable",
    "Clinic",
    "ClinicChange",
    "ClinicClaim",
    "ClinicReply",
    "ClinicScoreMonth",
    "ClinicViewDay",
    "FollowUp",
    "ModerationDecision",
    "OriginEvent",
    "OutgoingMail",
    "PageVersion",
    "Photo",
    "Practitioner",
    "QueueHold",
    "QueueRisk",
    "ReminderSent",
    "Report",
    "ResultCase",
    "Review",
    "SearchOutbox",
    "SimilarityMatch",
    "TextBand",
    "User",
]
