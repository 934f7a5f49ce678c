"""Usage statistics of every service (统计).

The events, monthly roll-ups, the dashboards, and COUNTER R5.1 reports with their SUSHI API.
"""
from flask import Blueprint

bp = Blueprint("usage", __name__)
