"""The union catalogue: records, holdings per library, source records, imports."""
from flask import Blueprint

bp = Blueprint("catalog", __name__)

from jala.catalog import routes  # noqa: E402,F401
