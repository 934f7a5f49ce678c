"""Document delivery requests, their timeline, and the journals each library covers."""
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import relationship

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

    id = Column(Integer, primary_key=True)
    reader_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    record_id = Column(BigInteger, ForeignKey("records.id", ondelete="SET NULL"))
    kind = Column(String(12), nullable=False)
    title = Column(Text, nullable=False)
    authors = Column(Text)
    container_title = Column(Text)
    year = Column(Integer)
    volume = Column(String(40))
    issue = Column(String(40))
    pages = Column(String(40))
    page_from = Column(Integer)
    page_to = Column(Integer)
    isbn = Column(String(13))
    issn = Column(String(9))
    doi = Column(String(200))
    note = Column(Text)
    # the book's total pages, from the catalogue or confirmed by the accepting librarian
    page_count = Column(Integer)
    email = Column(String(254), nullable=False)
    status = Column(String(10), nullable=False, default="pending")
    # libraries to ask, in order; rota_position points at the one asked now
    rota = Column(ARRAY(Integer), nullable=False)
    rota_position = Column(Integer, nullable=False, default=0)
    library_id = Column(Integer, ForeignKey("libraries.id"))
    routed_at = Column(DateTime(timezone=True))
    # timer: re-route a pending request, or remind the library of an accepted one
    respond_by = Column(DateTime(timezone=True))
    reminded_at = Column(DateTime(timezone=True))
    accepted_at = Column(DateTime(timezone=True))
    accepted_by_id = Column(Integer, ForeignKey("users.id"))
    fulfilled_by_id = Column(Integer, ForeignKey("users.id"))
    file_id = Column(Integer, ForeignKey("stored_files.id"))
    link_id = Column(Integer, ForeignKey("file_links.id"), index=True)
    url = Column(Text)
    finish_reason = Column(Text)
    created_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    finished_at = Column(DateTime(timezone=True))

    reader = relationship(User, foreign_keys=[reader_id])
    library = relationship(Library)
    record = relationship("Record")
    file = relationship(StoredFile)
    link = relationship(FileLink)
    events = relationship("DeliveryEvent", back_populates="request",
                          order_by="DeliveryEvent.id", lazy="selectin")

    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="known_status"),
        CheckConstraint(f"kind IN {KINDS}", name="known_kind"),
        CheckConstraint("page_from IS NULL OR (page_from >= 1 AND page_to >= page_from)",
                        name="page_range"),
        CheckConstraint("status NOT IN ('pending', 'accepted') OR library_id IS NOT NULL",
                        name="open_request_has_library"),
        Index("ix_delivery_requests_reader", reader_id, created_at),
        Index("ix_delivery_requests_library_status", library_id, status),
        Index("ix_delivery_requests_respond_by", respond_by,
              postgresql_where=text("status IN ('pending', 'accepted')")),
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

    id = Column(BigInteger, primary_key=True)
    request_id = Column(Integer, ForeignKey("delivery_requests.id"), nullable=False, index=True)
    at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    kind = Column(String(12), nullable=False)
    library_id = Column(Integer, ForeignKey("libraries.id"))
    actor_id = Column(Integer, ForeignKey("users.id"))
    detail = Column(Text)

    request = relationship(DeliveryRequest, back_populates="events")
    library = relationship(Library)

    __table_args__ = (
        CheckConstraint(f"kind IN {EVENT_KINDS}", name="known_event_kind"),
        Index("ix_delivery_events_library_at", library_id, at),
    )


class JournalCoverage(db.Model):
    """A journal a library holds or subscribes to (articles are routed by these)."""

    __tablename__ = "journal_coverage"

    id = Column(Integer, primary_key=True)
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    issn = Column(String(9), nullable=False, index=True)
    title = Column(Text)
    year_from = Column(Integer)
    year_to = Column(Integer)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    library = relationship(Library)

    __table_args__ = (
        UniqueConstraint("library_id", "issn"),
        CheckConstraint("year_to IS NULL OR year_from IS NULL OR year_to >= year_from",
                        name="year_range"),
    )
