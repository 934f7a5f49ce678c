"""Governance under the charter: membership, committee offices, meetings, votes, handovers.

The database enforces what must hold under concurrency: one vote per library per agenda item,
no vote on a closed item or by a library that has not checked in, tallies that never change
once an item is closed, one open handover, one committee chair.
"""
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import relationship

from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db
from jala.files import StoredFile

APPLICATION_STATUSES = ("submitted", "returned", "complete", "on_agenda", "admitted", "rejected")
OPEN_APPLICATION = ("submitted", "complete", "on_agenda")  # still being handled
# what each kind needs and does is resolutions.KINDS, which refuses to load if the two differ
ITEM_KINDS = ("application", "revocation", "resolution", "charter_amendment", "elect_chair",
              "remove_chair", "elect_vice_chair", "remove_vice_chair", "rotation_order",
              "budget", "expense", "information")
VOTE_CHOICES = ("yes", "no", "abstain")
OFFICES = ("chair", "vice_chair")
WORKING_GROUPS = ("resources", "reader_services", "it", "reference")


class MembershipApplication(db.Model):
    """A Jiangxi university library's written application to join."""

    __tablename__ = "membership_applications"

    id = Column(Integer, primary_key=True)
    name_zh = Column(String(100), nullable=False)
    name_en = Column(String(200))
    code = Column(String(16), nullable=False)
    city = Column(String(50), nullable=False)
    website = Column(String(200))
    contact_name = Column(String(100), nullable=False)
    contact_email = Column(String(254), nullable=False)
    contact_phone = Column(String(40))
    letter_file_id = Column(Integer, ForeignKey("stored_files.id"), nullable=False)
    status = Column(String(10), nullable=False, default="submitted")
    reviewed_by_id = Column(Integer, ForeignKey("users.id"))
    reviewed_at = Column(DateTime(timezone=True))
    review_note = Column(Text)
    library_id = Column(Integer, ForeignKey("libraries.id"))
    created_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    decided_at = Column(DateTime(timezone=True))

    letter = relationship(StoredFile)
    library = relationship(Library)

    __table_args__ = (
        CheckConstraint(f"status IN {APPLICATION_STATUSES}", name="known_status"),
    )


class MembershipEvent(db.Model):
    """A step in a library's membership history (applied, admitted, withdrew, revoked)."""

    __tablename__ = "membership_events"

    id = Column(Integer, primary_key=True)
    library_id = Column(Integer, ForeignKey("libraries.id"))
    application_id = Column(Integer, ForeignKey("membership_applications.id"))
    kind = Column(String(12), nullable=False)
    on = Column(Date, nullable=False)
    detail = Column(Text)
    created_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    __table_args__ = (
        CheckConstraint("kind IN ('applied', 'admitted', 'rejected', 'withdrew', 'revoked')",
                        name="known_kind"),
    )


class Withdrawal(db.Model):
    """A member's written notice of withdrawal (charter art. 15: no vote)."""

    __tablename__ = "withdrawals"

    id = Column(Integer, primary_key=True)
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False, unique=True)
    notice_file_id = Column(Integer, ForeignKey("stored_files.id"), nullable=False)
    effective_on = Column(Date, nullable=False)
    submitted_by_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    reported_item_id = Column(Integer, ForeignKey("agenda_items.id"))

    library = relationship(Library)
    notice = relationship(StoredFile)


class CommitteeOffice(db.Model):
    """The committee chair (委员会主任) or a vice-chair (副主任), elected by resolution."""

    __tablename__ = "committee_offices"

    id = Column(Integer, primary_key=True)
    office = Column(String(10), nullable=False)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    started_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    ended_at = Column(DateTime(timezone=True))
    elected_by_item_id = Column(Integer, ForeignKey("agenda_items.id"))
    ended_by_item_id = Column(Integer, ForeignKey("agenda_items.id"))

    user = relationship(User)
    library = relationship(Library)

    __table_args__ = (
        CheckConstraint(f"office IN {OFFICES}", name="known_office"),
        Index("uq_committee_offices_one_chair", "office", unique=True,
              postgresql_where=text("office = 'chair' AND ended_at IS NULL")),
        Index("uq_committee_offices_one_office_per_user", "user_id", "office", unique=True,
              postgresql_where=text("ended_at IS NULL")),
    )


class Meeting(db.Model):
    """A committee meeting: requested jointly (until the third signature) or convened."""

    __tablename__ = "meetings"

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    starts_at = Column(DateTime(timezone=True), nullable=False)
    place = Column(String(200))
    online_url = Column(String(500))
    status = Column(String(10), nullable=False, default="requested")
    convened_via = Column(String(10), nullable=False)
    requested_by_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    presiding_id = Column(Integer, ForeignKey("users.id"))
    convened_at = Column(DateTime(timezone=True))
    closed_at = Column(DateTime(timezone=True))
    minutes_note = Column(Text)
    created_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    presiding = relationship(User, foreign_keys=[presiding_id])
    requested_by = relationship(User, foreign_keys=[requested_by_id])
    items = relationship("AgendaItem", back_populates="meeting", order_by="AgendaItem.position",
                         lazy="selectin")
    signatures = relationship("MeetingSignature", order_by="MeetingSignature.id",
                              lazy="selectin")
    attendance = relationship("Attendance", order_by="Attendance.id", lazy="selectin")

    __table_args__ = (
        CheckConstraint("status IN ('requested', 'convened', 'closed')", name="known_status"),
        CheckConstraint("convened_via IN ('chair', 'vice_chair', 'joint')", name="known_via"),
        CheckConstraint("place IS NOT NULL OR online_url IS NOT NULL", name="place_or_link"),
    )


class MeetingSignature(db.Model):
    """A committee member's signature on a joint request to convene a meeting."""

    __tablename__ = "meeting_signatures"

    id = Column(Integer, primary_key=True)
    meeting_id = Column(Integer, ForeignKey("meetings.id"), nullable=False)
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    signed_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    library = relationship(Library)

    __table_args__ = (UniqueConstraint("meeting_id", "library_id"),)


class AgendaItem(db.Model):
    """One item of a meeting's agenda, with its vote tally once closed."""

    __tablename__ = "agenda_items"

    id = Column(Integer, primary_key=True)
    meeting_id = Column(Integer, ForeignKey("meetings.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    kind = Column(String(20), nullable=False)
    title = Column(String(300), nullable=False)
    body = Column(Text)
    application_id = Column(Integer, ForeignKey("membership_applications.id"))
    target_library_id = Column(Integer, ForeignKey("libraries.id"))
    target_user_id = Column(Integer, ForeignKey("users.id"))
    # rotation order: [[year, library_id], ...]; budget/expense: amount in yuan
    payload = Column(JSONB, nullable=False, server_default="{}")
    amount = Column(Numeric(14, 2))
    status = Column(String(8), nullable=False, default="open")
    yes = Column(Integer)
    no = Column(Integer)
    abstain = Column(Integer)
    attending = Column(Integer)
    passed = Column(Boolean)
    closed_at = Column(DateTime(timezone=True))
    closed_by_id = Column(Integer, ForeignKey("users.id"))

    meeting = relationship(Meeting, back_populates="items")
    application = relationship(MembershipApplication)
    target_library = relationship(Library)
    target_user = relationship(User, foreign_keys=[target_user_id])
    votes = relationship("Vote", lazy="selectin", order_by="Vote.id")

    __table_args__ = (
        CheckConstraint(f"kind IN {ITEM_KINDS}", name="known_kind"),
        CheckConstraint("status IN ('open', 'closed')", name="known_status"),
        CheckConstraint("status = 'open' OR kind = 'information' OR (yes IS NOT NULL AND "
                        "attending IS NOT NULL AND passed IS NOT NULL)", name="closed_has_tally"),
        UniqueConstraint("meeting_id", "position"),
    )

    @property
    def takes_vote(self):
        return self.kind != "information"


class Attendance(db.Model):
    """A member library checked in to a meeting (in person or online)."""

    __tablename__ = "attendance"

    id = Column(Integer, primary_key=True)
    meeting_id = Column(Integer, ForeignKey("meetings.id"), nullable=False)
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    mode = Column(String(10), nullable=False)
    checked_in_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    library = relationship(Library)

    __table_args__ = (
        UniqueConstraint("meeting_id", "library_id"),
        CheckConstraint("mode IN ('in_person', 'online')", name="known_mode"),
    )


class Vote(db.Model):
    """One member library's vote on one agenda item (changeable until the item closes)."""

    __tablename__ = "votes"

    id = Column(BigInteger, primary_key=True)
    item_id = Column(Integer, ForeignKey("agenda_items.id"), nullable=False)
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    choice = Column(String(8), nullable=False)
    cast_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    library = relationship(Library)

    __table_args__ = (
        UniqueConstraint("item_id", "library_id"),
        CheckConstraint(f"choice IN {VOTE_CHOICES}", name="known_choice"),
    )


class Handover(db.Model):
    """The chair library handing the management center (and portal admin roles) over."""

    __tablename__ = "handovers"

    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False)
    from_library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    to_library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    status = Column(String(10), nullable=False, default="open")
    started_by_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    started_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    accepted_by_id = Column(Integer, ForeignKey("users.id"))
    accepted_at = Column(DateTime(timezone=True))
    note = Column(Text)

    from_library = relationship(Library, foreign_keys=[from_library_id])
    to_library = relationship(Library, foreign_keys=[to_library_id])

    __table_args__ = (
        CheckConstraint("status IN ('open', 'accepted', 'cancelled')", name="known_status"),
        Index("uq_handovers_one_open", "status", unique=True,
              postgresql_where=text("status = 'open'")),
    )


class WorkingGroupMember(db.Model):
    """A person in one of the four working groups (资源建设, 读者服务, 信息技术, 参考咨询)."""

    __tablename__ = "working_group_members"

    id = Column(Integer, primary_key=True)
    group = Column(String(20), nullable=False)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    is_lead = Column(Boolean, nullable=False, default=False)
    added_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    user = relationship(User)

    __table_args__ = (
        CheckConstraint(f"\"group\" IN {WORKING_GROUPS}", name="known_group"),
        UniqueConstraint("group", "user_id"),
    )


class AnnualDocument(db.Model):
    """The management center's annual work plan or annual report."""

    __tablename__ = "annual_documents"

    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False)
    kind = Column(String(8), nullable=False)
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    body = Column(Text, nullable=False)
    updated_by_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    published_at = Column(DateTime(timezone=True))

    library = relationship(Library)

    __table_args__ = (
        CheckConstraint("kind IN ('plan', 'report')", name="known_kind"),
        UniqueConstraint("year", "kind"),
    )


class CostShare(db.Model):
    """A member library's share of the alliance's costs for one year (yuan)."""

    __tablename__ = "cost_shares"

    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False)
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    amount = Column(Numeric(14, 2), nullable=False)
    paid_on = Column(Date)

    library = relationship(Library)

    __table_args__ = (
        UniqueConstraint("year", "library_id"),
        CheckConstraint("amount >= 0", name="not_negative"),
    )


class Expense(db.Model):
    """Money the management center spent (reported to the committee every year)."""

    __tablename__ = "expenses"

    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False, index=True)
    spent_on = Column(Date, nullable=False)
    description = Column(String(300), nullable=False)
    amount = Column(Numeric(14, 2), nullable=False)
    recorded_by_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    recorded_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    approved_by_item_id = Column(Integer, ForeignKey("agenda_items.id"))

    __table_args__ = (CheckConstraint("amount > 0", name="positive"),)
