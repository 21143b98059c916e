"""Moderation of testimonials, follow-ups, photos, reports and appeals; dashboard and log."""

from directory.moderation.views import bp  # noqa: F401
