"""Reading (读): preview pages, full-text links, citations, saved lists."""
from flask import Blueprint

bp = Blueprint("reading", __name__)
