"""Production entry point: `gunicorn wsgi:app`."""

from directory import create_app

app = create_app()
