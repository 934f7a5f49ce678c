"""WSGI entry point: ``gunicorn wsgi:app``."""
from jala import create_app

app = create_app()
