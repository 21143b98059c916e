from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from directory.extensions import db

from ._base import created_at_column


class SearchOutbox(db.Model):
    """ "Clinic X changed": written in the same transaction as the change.

    No foreign key: the row must survive the clinic's deletion so the drain
    removes its document from the index.
    """

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = created_at_column()
