"""Borrowing between member libraries: interlibrary cards, holds, union loans, ILL requests.

Loans themselves live in each library's own system; the portal records the requests between
libraries and their steps. The database keeps one open ILL request per copy and one live card
per reader.
"""

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

    id = db.Column(db.Integer, primary_key=True)
    reader_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    status = db.Column(db.String(10), nullable=False, default="requested")
    # what the QR code carries and staff type in: random, shown only to the card holder
    code = db.Column(db.String(32), nullable=False, unique=True)
    valid_until = db.Column(db.Date)
    requested_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    decided_at = db.Column(db.DateTime(timezone=True))
    decided_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    reason = db.Column(db.Text)

    reader = db.relationship(User, foreign_keys=[reader_id])
    library = db.relationship(Library)

    __table_args__ = (
        db.CheckConstraint(f"status IN {CARD_STATUSES}", name="known_status"),
        db.Index("uq_interlibrary_cards_one_live", reader_id, unique=True,
                 postgresql_where=db.text("status IN ('requested', 'approved')")),
    )


class Hold(db.Model):
    """A reader's hold on a copy at the home library."""

    __tablename__ = "holds"

    id = db.Column(db.Integer, primary_key=True)
    reader_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id"), nullable=False)
    holding_id = db.Column(db.BigInteger, db.ForeignKey("holdings.id", ondelete="SET NULL"))
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    status = db.Column(db.String(10), nullable=False, default="placed")
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    ready_at = db.Column(db.DateTime(timezone=True))
    # timer: a ready hold not collected by then expires
    expires_at = db.Column(db.DateTime(timezone=True))
    closed_at = db.Column(db.DateTime(timezone=True))

    reader = db.relationship(User)
    record = db.relationship(Record)
    library = db.relationship(Library)

    __table_args__ = (
        db.CheckConstraint(f"status IN {HOLD_STATUSES}", name="known_status"),
        db.Index("uq_holds_one_live_per_reader_record", reader_id, record_id, unique=True,
                 postgresql_where=db.text("status IN ('placed', 'ready')")),
        db.Index("ix_holds_library_status", library_id, status),
    )


class IllRequest(db.Model):
    """An interlibrary loan (馆际互借): a copy of another library, picked up at home."""

    __tablename__ = "ill_requests"

    id = db.Column(db.Integer, primary_key=True)
    reader_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id"), nullable=False)
    holding_id = db.Column(db.BigInteger, db.ForeignKey("holdings.id"), nullable=False)
    lending_library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    home_library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    status = db.Column(db.String(16), nullable=False, default="requested")
    note = db.Column(db.Text)
    reason = db.Column(db.Text)
    due_on = db.Column(db.Date)
    renewals = db.Column(db.Integer, nullable=False, default=0)
    # timer: a due-date reminder, then overdue notices
    remind_at = db.Column(db.DateTime(timezone=True))
    overdue_notices = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    reader = db.relationship(User)
    record = db.relationship(Record)
    holding = db.relationship(Holding)
    lending_library = db.relationship(Library, foreign_keys=[lending_library_id])
    home_library = db.relationship(Library, foreign_keys=[home_library_id])
    events = db.relationship("IllEvent", order_by="IllEvent.id", lazy="selectin")

    __table_args__ = (
        db.CheckConstraint(f"status IN {ILL_STATUSES}", name="known_status"),
        db.CheckConstraint("lending_library_id <> home_library_id", name="between_libraries"),
        db.Index("uq_ill_requests_one_open_per_copy", holding_id, unique=True,
                 postgresql_where=db.text(f"status IN {ILL_OPEN}")),
        db.Index("ix_ill_requests_lending_status", lending_library_id, status),
        db.Index("ix_ill_requests_home_status", home_library_id, status),
        db.Index("ix_ill_requests_reader", reader_id),
        db.Index("ix_ill_requests_remind_at", remind_at,
                 postgresql_where=db.text("remind_at IS NOT NULL")),
    )


class IllEvent(db.Model):
    """One step of an ILL request (its timeline)."""

    __tablename__ = "ill_events"

    id = db.Column(db.BigInteger, primary_key=True)
    request_id = db.Column(db.Integer, db.ForeignKey("ill_requests.id"), nullable=False, index=True)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    from_status = db.Column(db.String(16))
    to_status = db.Column(db.String(16), nullable=False)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    note = db.Column(db.Text)

    library = db.relationship(Library)


class UnionLoan(db.Model):
    """Union borrowing (通借通还): borrowed in person at one library, returned at any."""

    __tablename__ = "union_loans"

    id = db.Column(db.Integer, primary_key=True)
    reader_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    card_id = db.Column(db.Integer, db.ForeignKey("interlibrary_cards.id"), nullable=False)
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id"))
    holding_id = db.Column(db.BigInteger, db.ForeignKey("holdings.id"))
    item_barcode = db.Column(db.String(60), nullable=False)
    lending_library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    return_library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    status = db.Column(db.String(12), nullable=False, default="on_loan")
    borrowed_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    due_on = db.Column(db.Date, nullable=False)
    returned_at = db.Column(db.DateTime(timezone=True))
    arrived_at = db.Column(db.DateTime(timezone=True))
    remind_at = db.Column(db.DateTime(timezone=True))
    overdue_notices = db.Column(db.Integer, nullable=False, default=0)
    lent_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    returned_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))

    reader = db.relationship(User, foreign_keys=[reader_id])
    record = db.relationship(Record)
    lending_library = db.relationship(Library, foreign_keys=[lending_library_id])
    return_library = db.relationship(Library, foreign_keys=[return_library_id])

    __table_args__ = (
        db.CheckConstraint(f"status IN {UNION_LOAN_STATUSES}", name="known_status"),
        db.Index("uq_union_loans_one_open_per_item", lending_library_id, item_barcode, unique=True,
                 postgresql_where=db.text("status IN ('on_loan', 'in_transit')")),
        db.Index("ix_union_loans_reader", reader_id),
        db.Index("ix_union_loans_remind_at", remind_at,
                 postgresql_where=db.text("remind_at IS NOT NULL")),
    )
