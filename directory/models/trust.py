"""What the manipulation defences remember: where accounts act from, and which texts
and photos resemble each other (computed once, when an item is submitted)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from directory.extensions import db

from ._base import UTCDateTime, created_at_column


class OriginEvent(db.Model):
    """One sign-up, login or submission: keyed hashes of the address, of its network
    prefix and of the browser's device cookie (never the address itself)."""

    __tablename__ = "origin_events"
    __table_args__ = (
        Index("ix_origin_events_address", "address_hash"),
        Index("ix_origin_events_network", "network_hash"),
        Index("ix_origin_events_device", "device_hash"),
        Index("ix_origin_events_item", "item_type", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # signup, login, review, followup, result_case, claim, clinic, report
    event: Mapped[str] = mapped_column(String(20))
    item_type: Mapped[str | None] = mapped_column(String(20))
    item_id: Mapped[int | None] = mapped_column(Integer)
    address_hash: Mapped[str | None] = mapped_column(String(64))
    network_hash: Mapped[str | None] = mapped_column(String(64))
    device_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()


class SimilarityMatch(db.Model):
    """A near-duplicate found when an item was submitted: text (testimonials, result
    cases, clinic descriptions) or photo. Stored once so no page compares on view."""

    __tablename__ = "similarity_matches"
    __table_args__ = (
        UniqueConstraint(
            "kind", "item_type", "item_id", "other_type", "other_id", name="uq_similarity_pair"
        ),
        Index("ix_similarity_item", "item_type", "item_id"),
        Index("ix_similarity_other", "other_type", "other_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # text, photo
    item_type: Mapped[str] = mapped_column(String(20))  # the newer item
    item_id: Mapped[int] = mapped_column(Integer)
    other_type: Mapped[str] = mapped_column(String(20))  # the item it resembles
    other_id: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    how: Mapped[str] = mapped_column(String(20), default="")  # e.g. mirrored, cropped
    created_at: Mapped[datetime] = created_at_column()


class TextBand(db.Model):
    """One LSH band key of a text's MinHash signature (directory.textprint): texts
    sharing a key are compared when the newer one is submitted."""

    __tablename__ = "text_bands"
    __table_args__ = (
        Index("ix_text_bands_key", "band", "bucket"),
        Index("ix_text_bands_item", "item_type", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(20))  # review, result_case, clinic
    item_id: Mapped[int] = mapped_column(Integer)
    band: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(16))


class QueueRisk(db.Model):
    """The trust signals of one item waiting for moderation, computed when it (or an
    item linked to it) is submitted, so a queue orders and filters by risk without
    computing anything on page view (services.risk)."""

    __tablename__ = "queue_risks"
    __table_args__ = (Index("ix_queue_risks_order", "item_type", "risk"),)

    item_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    risk: Mapped[int] = mapped_column(Integer, default=0)  # how many signals are raised
    keys: Mapped[str] = mapped_column(String(400), default="|")  # "|key|key|" raised ones
    signals: Mapped[list] = mapped_column(JSON, default=list)  # [key, label, detail, flag]
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
