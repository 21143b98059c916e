"""The page numbers a pager shows (search results, the gallery, moderation queues)."""

import pytest

from directory.services.paging import Pager


def shown(total, page, per_page=20, **window):
    return list(Pager([], total, page, per_page).iter_pages(**window))


@pytest.mark.parametrize(
    ("total", "page", "expected"),
    [
        (0, 1, []),
        (20, 1, [1]),
        (21, 2, [1, 2]),
        (200, 1, [1, 2, 3, 4, 5, None, 9, 10]),
        (200, 5, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        (200, 10, [1, 2, None, 8, 9, 10]),
        # A broad search: a thousand pages, the numbers around the current one.
        (19_426, 1, [1, 2, 3, 4, 5, None, 971, 972]),
        (19_426, 500, [1, 2, None, 498, 499, 500, 501, 502, 503, 504, None, 971, 972]),
        (19_426, 972, [1, 2, None, 970, 971, 972]),
    ],
)
def test_the_pager_shows_the_edges_and_the_pages_around_the_current_one(total, page, expected):
    assert shown(total, page) == expected


def test_a_window_given_by_the_caller_and_a_gap_at_the_end():
    assert shown(2000, 50, left_edge=1, left_current=1, right_current=1, right_edge=0) == [
        1,
        None,
        49,
        50,
        51,
        None,
    ]
    assert shown(2000, 1, left_edge=0, left_current=0, right_current=0, right_edge=1) == [
        1,
        None,
        100,
    ]
