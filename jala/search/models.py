"""The search log (for the statistics pages): queries, filters, hits and time, never who."""
from sqlalchemy.dialects.postgresql import JSONB

from jala import clock
from jala.extensions import db


class SearchLogEntry(db.Model):
    """One search: what was asked, how many hits, how long; no personal data."""

    __tablename__ = "search_log"

    id = db.Column(db.BigInteger, primary_key=True)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    query = db.Column(db.String(500), nullable=False)
    filters = db.Column(JSONB, nullable=False, default=dict)
    hits = db.Column(db.Integer, nullable=False)
    total_relation = db.Column(db.String(3), nullable=False)
    ms = db.Column(db.Integer, nullable=False)
    channel = db.Column(db.String(8), nullable=False)
