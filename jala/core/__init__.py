"""Public pages every visitor sees: home, member libraries, health checks, language, files."""
from flask import Blueprint

bp = Blueprint("core", __name__)
