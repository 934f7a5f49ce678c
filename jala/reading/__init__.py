"""Reading (读): preview pages, full-text links, citations, saved lists."""
from flask import Blueprint

bp = Blueprint("reading", __name__)

from jala.reading import routes  # noqa: E402,F401
