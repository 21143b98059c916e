"""One page of a longer list, shaped like Flask-SQLAlchemy's Pagination so the
pager macro (templates/_macros/ui.html) and the API's paging links read any of
them: the gallery, search results and the moderation queues."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar


@dataclass
class Pager:
    items: list
    total: int
    page: int
    per_page: int

    # iter_pages' defaults: left_edge, left_current, right_current, right_edge.
    window: ClassVar[tuple[int, int, int, int]] = (2, 2, 4, 2)
    # How many pages an empty list has: none (the API says 0), or the one empty page.
    empty_pages: ClassVar[int] = 0

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.per_page) if self.total else self.empty_pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def iter_pages(self, left_edge=None, left_current=None, right_current=None, right_edge=None):
        """The page numbers a pager shows, None where it skips some; an argument left
        out takes this pager's `window`."""
        given = (left_edge, left_current, right_current, right_edge)
        left_edge, left_current, right_current, right_edge = (
            default if value is None else value
            for value, default in zip(given, self.window, strict=True)
        )
        pages, page = self.pages, self.page
        # The shown numbers come from three windows, so the work is the window's
        # size, not the page count (a broad search has a thousand pages).
        windows = (
            (1, left_edge),
            (page - left_current, page + right_current),
            (pages - right_edge + 1, pages),
        )
        shown = sorted({n for lo, hi in windows for n in range(max(1, lo), min(pages, hi) + 1)})
        last = None
        for n in shown:
            if last is not None and n != last + 1:
                yield None
            yield n
            last = n
        if last is not None and last < pages:
            yield None
