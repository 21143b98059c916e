"""The moderation blueprint. Its routes live in three modules:

- `content`: testimonials, follow-ups, photos, reports, appeals, the
  dashboard and the decision log;
- `clinics`: clinic claims, newly registered clinics and result cases;
- `clusters`: accounts linked by origin, device or e-mail pattern, shown as one.
"""

from flask import Blueprint

bp = Blueprint("moderation", __name__)

from directory.moderation import clinics, clusters, content  # noqa: E402,F401  (routes register on bp)
