from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from directory.extensions import db

from ._base import UTCDateTime, created_at_column
from .statuses import ItemStatus, check


class Photo(db.Model):
    """An uploaded image, re-encoded and stored under random names in instance/media/.

    A photo belongs to a review or to a result case; it is public only when its
    own status is published and its parent is public.
    """

    __tablename__ = "photos"
    __table_args__ = (check(ItemStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uploader_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    review_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviews.id", ondelete="CASCADE"), index=True
    )
    clinic_id: Mapped[int | None] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), index=True
    )
    # Set for a photo sent with a follow-up (it also carries the review's id).
    followup_id: Mapped[int | None] = mapped_column(
        ForeignKey("followups.id", ondelete="CASCADE"), index=True
    )
    # "review", "before", "after", "healed"
    kind: Mapped[str] = mapped_column(String(20), default="review")
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    thumb_name: Mapped[str] = mapped_column(String(80), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)
    phash: Mapped[str] = mapped_column(String(32), index=True)
    # More perceptual hashes, computed once at upload (services.similarity): of the
    # mirrored image, of the centre crop and its mirror, and a 4x4 colour print.
    phash_mirror: Mapped[str | None] = mapped_column(String(16))
    phash_centre: Mapped[str | None] = mapped_column(String(16))
    phash_centre_mirror: Mapped[str | None] = mapped_column(String(16))
    colour_print: Mapped[str | None] = mapped_column(String(96))
    # The fine detail (dots, strands) as ternary maps, 5 KB: what confirms a copy
    # (photoprint.grain_print). Missing on photos stored before it existed, until
    # `flask similarity-rebuild`: the thumbnail stands in.
    grain_print: Mapped[bytes | None] = mapped_column(LargeBinary)
    consent_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=ItemStatus.PENDING.value)
    created_at: Mapped[datetime] = created_at_column()
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
