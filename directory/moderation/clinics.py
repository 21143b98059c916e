"""Moderation of clinic claims, newly registered clinics and result cases."""

from directory.moderation.views import bp  # noqa: F401
