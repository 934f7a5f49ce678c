"""The union catalogue: records, holdings per library, source records, imports."""
from flask import Blueprint

bp = Blueprint("catalog", __name__)
