"""The moderation blueprint. Its routes live in two modules:

- `content`: testimonials, follow-ups, photos, reports, appeals, the
  dashboard and the decision log;
- `clinics`: clinic claims, newly registered clinics and result cases.
"""

from flask import Blueprint

bp = Blueprint("moderation", __name__)

from directory.moderation import clinics, content  # noqa: E402,F401  (routes register on bp)
