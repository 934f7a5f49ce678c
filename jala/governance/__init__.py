"""Governance (章程): membership, committee meetings and votes, the chair library's handover."""
from flask import Blueprint

bp = Blueprint("governance", __name__)
