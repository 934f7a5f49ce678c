"""Tables of events (活动): the events, reading-club series, sign-ups and calendar feeds."""
from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db

EVENT_KINDS = ("lecture", "training", "seminar", "reading_month", "exchange", "reading_club")
AUDIENCES = ("members", "staff", "library")
EVENT_STATUSES = ("scheduled", "cancelled")
REGISTRATION_STATUSES = ("confirmed", "waiting", "cancelled")


class EventSeries(db.Model):
    """Recurring sessions under one name: a reading club (读书会) meeting every week or month."""

    __tablename__ = "event_series"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    events = db.relationship("Event", back_populates="series", order_by="Event.starts_at")


class Event(db.Model):
    """A lecture, training session, seminar, reading-month activity, exchange or club session.

    ``library_id`` is the organiser; None means the alliance's management centre.
    """

    __tablename__ = "events"

    id = db.Column(db.Integer, primary_key=True)
    series_id = db.Column(db.Integer, db.ForeignKey("event_series.id"), index=True)
    title = db.Column(db.String(200), nullable=False)
    kind = db.Column(db.String(20), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    starts_at = db.Column(db.DateTime(timezone=True), nullable=False, index=True)
    ends_at = db.Column(db.DateTime(timezone=True), nullable=False)
    place = db.Column(db.String(200))
    online_url = db.Column(db.String(500))
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), index=True)
    capacity = db.Column(db.Integer, nullable=False)
    audience = db.Column(db.String(10), nullable=False, default="members")
    audience_library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    signup_opens_at = db.Column(db.DateTime(timezone=True), nullable=False)
    signup_closes_at = db.Column(db.DateTime(timezone=True), nullable=False)
    status = db.Column(db.String(10), nullable=False, default="scheduled")
    cancelled_at = db.Column(db.DateTime(timezone=True))
    cancel_reason = db.Column(db.Text)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    library = db.relationship(Library, foreign_keys=[library_id])
    audience_library = db.relationship(Library, foreign_keys=[audience_library_id])
    series = db.relationship(EventSeries, back_populates="events")

    __table_args__ = (
        db.CheckConstraint(f"kind IN {EVENT_KINDS}", name="known_kind"),
        db.CheckConstraint(f"audience IN {AUDIENCES}", name="known_audience"),
        db.CheckConstraint(f"status IN {EVENT_STATUSES}", name="known_status"),
        db.CheckConstraint("(audience = 'library') = (audience_library_id IS NOT NULL)",
                           name="audience_library_given"),
        db.CheckConstraint("capacity > 0", name="positive_capacity"),
        db.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        db.CheckConstraint("signup_closes_at > signup_opens_at", name="signup_window"),
    )


class EventRegistration(db.Model):
    """A reader's sign-up for an event: a seat, a place on the waiting list, or cancelled.

    One row per reader and event (signing up again reuses it); the waiting list is in
    ``queued_at`` order. ``reminded_at`` makes the day-before reminder go out once.
    """

    __tablename__ = "event_registrations"

    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.Integer, db.ForeignKey("events.id"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    status = db.Column(db.String(10), nullable=False)
    ticket_code = db.Column(db.String(12), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    queued_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    confirmed_at = db.Column(db.DateTime(timezone=True))
    cancelled_at = db.Column(db.DateTime(timezone=True))
    reminded_at = db.Column(db.DateTime(timezone=True))
    checked_in_at = db.Column(db.DateTime(timezone=True))
    checked_in_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))

    event = db.relationship(Event)
    user = db.relationship(User, foreign_keys=[user_id])

    __table_args__ = (
        db.UniqueConstraint("event_id", "user_id"),
        db.UniqueConstraint("event_id", "ticket_code"),
        db.CheckConstraint(f"status IN {REGISTRATION_STATUSES}", name="known_status"),
        db.CheckConstraint("checked_in_at IS NULL OR status = 'confirmed'",
                           name="attended_with_a_seat"),
        db.Index("ix_event_registrations_event_status", "event_id", "status", "queued_at"),
    )


class EventCalendarFeed(db.Model):
    """A reader's secret calendar feed address (regenerating it retires the old one).

    Only the token's SHA-256 is looked up; the token itself is kept sealed (``jala.sealing``)
    so the calendar page can show the address again.
    """

    __tablename__ = "event_calendar_feeds"

    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), primary_key=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    token_sealed = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
