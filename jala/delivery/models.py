"""Document delivery requests, their timeline, and the journals each library covers."""
from sqlalchemy.dialects.postgresql import ARRAY

from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db
from jala.files import FileLink, StoredFile

KINDS = ("article", "book_part", "other")
STATUSES = ("pending", "accepted", "fulfilled", "unfilled", "refused", "cancelled")
OPEN_STATUSES = ("pending", "accepted")
EVENT_KINDS = ("submitted", "routed", "accepted", "passed", "timed_out", "fulfilled",
               "unfilled", "refused", "cancelled", "reminded", "page_count")


class DeliveryRequest(db.Model):
    """A reader's request for an article or part of a book, and where it stands."""

    __tablename__ = "delivery_requests"

    id = db.Column(db.Integer, primary_key=True)
    reader_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id", ondelete="SET NULL"))
    kind = db.Column(db.String(12), nullable=False)
    title = db.Column(db.Text, nullable=False)
    authors = db.Column(db.Text)
    container_title = db.Column(db.Text)
    year = db.Column(db.Integer)
    volume = db.Column(db.String(40))
    issue = db.Column(db.String(40))
    pages = db.Column(db.String(40))
    page_from = db.Column(db.Integer)
    page_to = db.Column(db.Integer)
    isbn = db.Column(db.String(13))
    issn = db.Column(db.String(9))
    doi = db.Column(db.String(200))
    note = db.Column(db.Text)
    # the book's total pages, from the catalogue or confirmed by the accepting librarian
    page_count = db.Column(db.Integer)
    email = db.Column(db.String(254), nullable=False)
    status = db.Column(db.String(10), nullable=False, default="pending")
    # libraries to ask, in order; rota_position points at the one asked now
    rota = db.Column(ARRAY(db.Integer), nullable=False)
    rota_position = db.Column(db.Integer, nullable=False, default=0)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    routed_at = db.Column(db.DateTime(timezone=True))
    # timer: re-route a pending request, or remind the library of an accepted one
    respond_by = db.Column(db.DateTime(timezone=True))
    reminded_at = db.Column(db.DateTime(timezone=True))
    accepted_at = db.Column(db.DateTime(timezone=True))
    accepted_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    fulfilled_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    file_id = db.Column(db.Integer, db.ForeignKey("stored_files.id"))
    link_id = db.Column(db.Integer, db.ForeignKey("file_links.id"), index=True)
    url = db.Column(db.Text)
    finish_reason = db.Column(db.Text)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    finished_at = db.Column(db.DateTime(timezone=True))

    reader = db.relationship(User, foreign_keys=[reader_id])
    library = db.relationship(Library)
    record = db.relationship("Record")
    file = db.relationship(StoredFile)
    link = db.relationship(FileLink)
    events = db.relationship("DeliveryEvent", back_populates="request",
                             order_by="DeliveryEvent.id", lazy="selectin")

    __table_args__ = (
        db.CheckConstraint(f"status IN {STATUSES}", name="known_status"),
        db.CheckConstraint(f"kind IN {KINDS}", name="known_kind"),
        db.CheckConstraint("page_from IS NULL OR (page_from >= 1 AND page_to >= page_from)",
                           name="page_range"),
        db.CheckConstraint("status NOT IN ('pending', 'accepted') OR library_id IS NOT NULL",
                           name="open_request_has_library"),
        db.Index("ix_delivery_requests_reader", reader_id, created_at),
        db.Index("ix_delivery_requests_library_status", library_id, status),
        db.Index("ix_delivery_requests_respond_by", respond_by,
                 postgresql_where=db.text("status IN ('pending', 'accepted')")),
    )

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def page_span(self):
        """How many pages a book-part request asks for."""
        if self.page_from is None:
            return None
        return self.page_to - self.page_from + 1


class DeliveryEvent(db.Model):
    """One step in a request's timeline (shown to the reader and counted in statistics)."""

    __tablename__ = "delivery_events"

    id = db.Column(db.BigInteger, primary_key=True)
    request_id = db.Column(db.Integer, db.ForeignKey("delivery_requests.id"), nullable=False,
                           index=True)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    kind = db.Column(db.String(12), nullable=False)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    detail = db.Column(db.Text)

    request = db.relationship(DeliveryRequest, back_populates="events")
    library = db.relationship(Library)

    __table_args__ = (
        db.CheckConstraint(f"kind IN {EVENT_KINDS}", name="known_event_kind"),
        db.Index("ix_delivery_events_library_at", library_id, at),
    )


class JournalCoverage(db.Model):
    """A journal a library holds or subscribes to (articles are routed by these)."""

    __tablename__ = "journal_coverage"

    id = db.Column(db.Integer, primary_key=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    issn = db.Column(db.String(9), nullable=False, index=True)
    title = db.Column(db.Text)
    year_from = db.Column(db.Integer)
    year_to = db.Column(db.Integer)
    # KBART embargo_info: R1Y = the latest year is not there yet, P5Y = only the past 5 years
    embargo = db.Column(db.String(5))
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    library = db.relationship(Library)

    __table_args__ = (
        db.UniqueConstraint("library_id", "issn"),
        db.CheckConstraint("year_to IS NULL OR year_from IS NULL OR year_to >= year_from",
                           name="year_range"),
        db.CheckConstraint("embargo ~ '^[RP][0-9]{1,3}[DMY]$'", name="kbart_embargo"),
    )
