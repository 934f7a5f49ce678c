"""Governance (章程): membership, committee meetings and votes, the chair library's handover."""
from flask import Blueprint

bp = Blueprint("governance", __name__)

from jala.governance import center_routes, routes  # noqa: E402,F401
