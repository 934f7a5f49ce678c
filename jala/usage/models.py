"""Usage tables: one row per countable event, and the monthly roll-up the dashboards read.

Aggregates, not people: an event carries the reader's home library and a session key (a hash of
the session, or of IP and browser per day) — never who the reader is.
"""
from jala import clock
from jala.extensions import db

KINDS = ("record_view", "link_click", "sign_in", "catalogue_download", "search", "export")


class UsageEvent(db.Model):
    """One countable use of the portal: a record viewed, a full-text link followed, a sign-in…"""

    __tablename__ = "usage_events"

    id = db.Column(db.BigInteger, primary_key=True)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    kind = db.Column(db.Text, nullable=False)
    record_id = db.Column(db.BigInteger)  # no foreign key: a withdrawn record keeps its counts
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))  # home library; null: visitor
    session_key = db.Column(db.Text)
    platform = db.Column(db.Text)

    __table_args__ = (
        db.Index("ix_usage_events_kind_at", "kind", "at"),
        db.Index("ix_usage_events_at", "at"),
        db.Index("ix_usage_events_library_id_at", "library_id", "at"),  # COUNTER's reads
        db.Index("ix_usage_events_record_id", "record_id",
                 postgresql_where=db.text("record_id IS NOT NULL")),
    )


class UsageMonthly(db.Model):
    """The monthly roll-up: ``n`` of ``measure`` in ``month`` for a library.

    A null library: visitors, or a figure that belongs to no library.
    """

    __tablename__ = "usage_monthly"

    id = db.Column(db.BigInteger, primary_key=True)
    month = db.Column(db.Date, nullable=False)  # the first day of the month (Beijing time)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id", ondelete="CASCADE"))
    measure = db.Column(db.Text, nullable=False)
    n = db.Column(db.BigInteger, nullable=False)

    __table_args__ = (
        db.Index("uq_usage_monthly_month_library_measure", "month",
                 db.text("coalesce(library_id, 0)"), "measure", unique=True),
        db.Index("ix_usage_monthly_library_month", "library_id", "month"),
    )


class UsageQueryMonthly(db.Model):
    """Queries asked in a month (normalised): how often, and how often they found nothing."""

    __tablename__ = "usage_query_monthly"

    id = db.Column(db.BigInteger, primary_key=True)
    month = db.Column(db.Date, nullable=False)
    query = db.Column(db.Text, nullable=False)
    searches = db.Column(db.BigInteger, nullable=False)
    zero_hits = db.Column(db.BigInteger, nullable=False)

    __table_args__ = (
        db.UniqueConstraint("month", "query"),
    )


class UsageRefresh(db.Model):
    """When the roll-up was last recomputed (one row)."""

    __tablename__ = "usage_refreshes"

    id = db.Column(db.Integer, primary_key=True)
    refreshed_at = db.Column(db.DateTime(timezone=True), nullable=False)
    seconds = db.Column(db.Float, nullable=False, default=0)
