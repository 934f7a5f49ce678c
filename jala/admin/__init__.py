"""Portal administration: audit log, settings, the email outbox, the development mail sink."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
