"""Unified search (查): normalisation, tokens, the query language, ranking, facets, the API."""
from flask import Blueprint

bp = Blueprint("search", __name__)
