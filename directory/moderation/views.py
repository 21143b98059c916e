"""The moderation blueprint. Its routes live in four modules:

- `decisions`: every queue (paged, filtered), one item's page, holds, and the one
  decision view all queues share;
- `content`: the dashboard and the decision log;
- `clinics`: finding a clinic, its profile history, suspending and reinstating;
- `clusters`: accounts linked by origin, device or e-mail pattern, shown as one.
"""

from flask import Blueprint

bp = Blueprint("moderation", __name__)

from directory.moderation import clinics, clusters, content, decisions  # noqa: E402,F401
