"""WSGI entry point: ``gunicorn app:app`` (Toolforge build service) or ``flask run``."""

from suggest.web import create_app

app = create_app()
