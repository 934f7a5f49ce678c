"""The search log (for the statistics pages): queries, filters, hits and time, never who."""
from sqlalchemy.dialects.postgresql import JSONB

from jala import clock
from jala.extensions import db


class SearchLogEntry(db.Model):
    """One search: what was asked, how many hits, how long; no personal data."""

    __tablename__ = "search_log"

    id = db.Column(db.BigInteger, primary_key=True)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now, index=True)
    query = db.Column(db.String(500), nullable=False)
    filters = db.Column(JSONB, nullable=False, default=dict)
    hits = db.Column(db.Integer, nullable=False)
    total_relation = db.Column(db.String(3), nullable=False)
    ms = db.Column(db.Integer, nullable=False)
    channel = db.Column(db.String(8), nullable=False)
    library_id = db.Column(db.Integer)  # the searcher's home library (statistics); null: visitor


class Suggestion(db.Model):
    """A title, author or subject the box suggests, and the keys it is found by as one types.

    The keys are its characters, its pinyin and its pinyin initials.
    """

    __tablename__ = "search_suggestions"

    id = db.Column(db.BigInteger, primary_key=True)
    kind = db.Column(db.String(8), nullable=False)  # title, author, subject
    text = db.Column(db.String(200), nullable=False)
    key = db.Column(db.String(100), nullable=False)  # query.title_key of the text
    pinyin = db.Column(db.String(120), nullable=False, server_default="")
    initials = db.Column(db.String(60), nullable=False, server_default="")
    weight = db.Column(db.Integer, nullable=False, server_default="1")

    __table_args__ = (
        db.UniqueConstraint("kind", "key"),
        db.CheckConstraint("kind IN ('title', 'author', 'subject')", name="known_kind"),
        # a short prefix matches thousands: each of its first characters has its own index in
        # weight order, so the heaviest few are read at once; longer prefixes range over key
        *[db.Index(f"ix_search_suggestions_{column}_{n}", db.func.left(db.column(column), n),
                   db.desc(db.column("weight")))
          for column, lengths in (("key", (1, 2)), ("pinyin", (2, 3, 4)),
                                  ("initials", (2, 3)))
          for n in lengths],
        db.Index("ix_search_suggestions_key", "key", postgresql_ops={"key": "text_pattern_ops"}),
        db.Index("ix_search_suggestions_pinyin", "pinyin",
                 postgresql_ops={"pinyin": "text_pattern_ops"}),
        db.Index("ix_search_suggestions_initials", "initials",
                 postgresql_ops={"initials": "text_pattern_ops"}),
    )


class SuggestionProgress(db.Model):
    """How far the suggestions have taken in the catalogue: records up to this id."""

    __tablename__ = "search_suggestion_progress"

    id = db.Column(db.Integer, primary_key=True)
    through_record_id = db.Column(db.BigInteger, nullable=False, server_default="0")
