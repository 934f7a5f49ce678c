"""Purchase suggestions: a reader's title for their library to buy, and where it stands."""
from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db

STATUSES = ("suggested", "ordered", "declined", "available")
OPEN_STATUSES = ("suggested", "ordered")


class PurchaseSuggestion(db.Model):
    """A title a reader suggests their home library buy (荐购), and the library's decision."""

    __tablename__ = "purchase_suggestions"

    id = db.Column(db.Integer, primary_key=True)
    reader_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    # the reader's home library when they suggested it: its staff decide
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    title = db.Column(db.Text, nullable=False)
    # the title normalised (search.normalize.normalize_key_part): one open suggestion per title
    title_key = db.Column(db.Text, nullable=False)
    authors = db.Column(db.Text)
    publisher = db.Column(db.Text)
    year = db.Column(db.Integer)
    isbn = db.Column(db.String(13))
    note = db.Column(db.Text)
    status = db.Column(db.String(10), nullable=False, default="suggested")
    # the union catalogue's record: found by ISBN when suggested, or given when it arrived
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id", ondelete="SET NULL"))
    reason = db.Column(db.Text)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    ordered_at = db.Column(db.DateTime(timezone=True))
    # declined or available
    closed_at = db.Column(db.DateTime(timezone=True))

    reader = db.relationship(User)
    library = db.relationship(Library)
    record = db.relationship("Record")

    __table_args__ = (
        db.CheckConstraint(f"status IN {STATUSES}", name="known_status"),
        db.CheckConstraint("status <> 'declined' OR reason IS NOT NULL",
                           name="declined_has_reason"),
        db.Index("ix_purchase_suggestions_library_status", library_id, status),
        db.Index("uq_purchase_suggestions_reader_id_title_key", reader_id, title_key,
                 unique=True, postgresql_where=db.text(f"status IN {OPEN_STATUSES}")),
    )

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES
