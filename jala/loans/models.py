"""Borrowing between member libraries: interlibrary cards, holds, union loans, ILL requests.

Loans themselves live in each library's own system; the portal records the requests between
libraries and their steps. The database keeps one open ILL request per copy and one live card
per reader.
"""
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import relationship

from jala import clock
from jala.accounts.models import Library, User
from jala.catalog.models import Holding, Record
from jala.extensions import db

CARD_STATUSES = ("requested", "approved", "refused", "revoked")
HOLD_STATUSES = ("placed", "ready", "collected", "cancelled", "expired")
ILL_STATUSES = ("requested", "approved", "refused", "shipped", "received", "on_loan", "returned",
                "back_at_lender", "closed", "cancelled")
ILL_OPEN = ("requested", "approved", "shipped", "received", "on_loan", "returned",
            "back_at_lender")
UNION_LOAN_STATUSES = ("on_loan", "in_transit", "closed")


class InterlibraryCard(db.Model):
    """A reader's interlibrary card (馆际互借证), approved by the home library."""

    __tablename__ = "interlibrary_cards"

    id = Column(Integer, primary_key=True)
    reader_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    status = Column(String(10), nullable=False, default="requested")
    # what the QR code carries and staff type in: random, shown only to the card holder
    code = Column(String(32), nullable=False, unique=True)
    valid_until = Column(Date)
    requested_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    decided_at = Column(DateTime(timezone=True))
    decided_by_id = Column(Integer, ForeignKey("users.id"))
    reason = Column(Text)

    reader = relationship(User, foreign_keys=[reader_id])
    library = relationship(Library)

    __table_args__ = (
        CheckConstraint(f"status IN {CARD_STATUSES}", name="known_status"),
        Index("uq_interlibrary_cards_one_live", reader_id, unique=True,
              postgresql_where=text("status IN ('requested', 'approved')")),
    )


class Hold(db.Model):
    """A reader's hold on a copy at the home library."""

    __tablename__ = "holds"

    id = Column(Integer, primary_key=True)
    reader_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    record_id = Column(BigInteger, ForeignKey("records.id"), nullable=False)
    holding_id = Column(BigInteger, ForeignKey("holdings.id", ondelete="SET NULL"))
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    status = Column(String(10), nullable=False, default="placed")
    created_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    ready_at = Column(DateTime(timezone=True))
    # timer: a ready hold not collected by then expires
    expires_at = Column(DateTime(timezone=True))
    closed_at = Column(DateTime(timezone=True))

    reader = relationship(User)
    record = relationship(Record)
    library = relationship(Library)

    __table_args__ = (
        CheckConstraint(f"status IN {HOLD_STATUSES}", name="known_status"),
        Index("uq_holds_one_live_per_reader_record", reader_id, record_id, unique=True,
              postgresql_where=text("status IN ('placed', 'ready')")),
        Index("ix_holds_library_status", library_id, status),
    )


class IllRequest(db.Model):
    """An interlibrary loan (馆际互借): a copy of another library, picked up at home."""

    __tablename__ = "ill_requests"

    id = Column(Integer, primary_key=True)
    reader_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    record_id = Column(BigInteger, ForeignKey("records.id"), nullable=False)
    holding_id = Column(BigInteger, ForeignKey("holdings.id"), nullable=False)
    lending_library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    home_library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    status = Column(String(16), nullable=False, default="requested")
    note = Column(Text)
    reason = Column(Text)
    due_on = Column(Date)
    renewals = Column(Integer, nullable=False, default=0)
    # timer: a due-date reminder, then overdue notices
    remind_at = Column(DateTime(timezone=True))
    overdue_notices = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    reader = relationship(User)
    record = relationship(Record)
    holding = relationship(Holding)
    lending_library = relationship(Library, foreign_keys=[lending_library_id])
    home_library = relationship(Library, foreign_keys=[home_library_id])
    events = relationship("IllEvent", order_by="IllEvent.id", lazy="selectin")

    __table_args__ = (
        CheckConstraint(f"status IN {ILL_STATUSES}", name="known_status"),
        CheckConstraint("lending_library_id <> home_library_id", name="between_libraries"),
        Index("uq_ill_requests_one_open_per_copy", holding_id, unique=True,
              postgresql_where=text(f"status IN {ILL_OPEN}")),
        Index("ix_ill_requests_lending_status", lending_library_id, status),
        Index("ix_ill_requests_home_status", home_library_id, status),
        Index("ix_ill_requests_reader", reader_id),
        Index("ix_ill_requests_remind_at", remind_at,
              postgresql_where=text("remind_at IS NOT NULL")),
    )


class IllEvent(db.Model):
    """One step of an ILL request (its timeline)."""

    __tablename__ = "ill_events"

    id = Column(BigInteger, primary_key=True)
    request_id = Column(Integer, ForeignKey("ill_requests.id"), nullable=False, index=True)
    at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    from_status = Column(String(16))
    to_status = Column(String(16), nullable=False)
    actor_id = Column(Integer, ForeignKey("users.id"))
    library_id = Column(Integer, ForeignKey("libraries.id"))
    note = Column(Text)

    library = relationship(Library)


class UnionLoan(db.Model):
    """Union borrowing (通借通还): borrowed in person at one library, returned at any."""

    __tablename__ = "union_loans"

    id = Column(Integer, primary_key=True)
    reader_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    card_id = Column(Integer, ForeignKey("interlibrary_cards.id"), nullable=False)
    record_id = Column(BigInteger, ForeignKey("records.id"))
    holding_id = Column(BigInteger, ForeignKey("holdings.id"))
    item_barcode = Column(String(60), nullable=False)
    lending_library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    return_library_id = Column(Integer, ForeignKey("libraries.id"))
    status = Column(String(12), nullable=False, default="on_loan")
    borrowed_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    due_on = Column(Date, nullable=False)
    returned_at = Column(DateTime(timezone=True))
    arrived_at = Column(DateTime(timezone=True))
    remind_at = Column(DateTime(timezone=True))
    overdue_notices = Column(Integer, nullable=False, default=0)
    lent_by_id = Column(Integer, ForeignKey("users.id"))
    returned_by_id = Column(Integer, ForeignKey("users.id"))

    reader = relationship(User, foreign_keys=[reader_id])
    record = relationship(Record)
    lending_library = relationship(Library, foreign_keys=[lending_library_id])
    return_library = relationship(Library, foreign_keys=[return_library_id])

    __table_args__ = (
        CheckConstraint(f"status IN {UNION_LOAN_STATUSES}", name="known_status"),
        Index("uq_union_loans_one_open_per_item", lending_library_id, item_barcode, unique=True,
              postgresql_where=text("status IN ('on_loan', 'in_transit')")),
        Index("ix_union_loans_reader", reader_id),
        Index("ix_union_loans_remind_at", remind_at,
              postgresql_where=text("remind_at IS NOT NULL")),
    )
