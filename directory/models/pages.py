"""Versions of what public pages show, for the page cache (directory.pagecache)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from directory.extensions import db


class PageVersion(db.Model):
    """A random token replaced in the same transaction as any change a page shows.

    `scope` is a clinic id (its profile, testimonials and results pages), 0 for the
    listings (home and search) or -1 for everything (changes that cannot be traced
    to one clinic). A missing row reads as version 0.
    """

    __tablename__ = "page_versions"

    scope: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
