"""Entry point for gunicorn and `flask --app wsgi`."""

from volunteer import create_app

app = create_app()
