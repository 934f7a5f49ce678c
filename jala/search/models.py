"""The search log (for the statistics pages): queries, filters, hits and time, never who."""
from sqlalchemy import BigInteger, Column, DateTime, Integer, String
from sqlalchemy.dialects.postgresql import JSONB

from jala import clock
from jala.extensions import db


class SearchLogEntry(db.Model):
    """One search: what was asked, how many hits, how long; no personal data."""

    __tablename__ = "search_log"

    id = Column(BigInteger, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    query = Column(String(500), nullable=False)
    filters = Column(JSONB, nullable=False, default=dict)
    hits = Column(Integer, nullable=False)
    total_relation = Column(String(3), nullable=False)
    ms = Column(Integer, nullable=False)
    channel = Column(String(8), nullable=False)
