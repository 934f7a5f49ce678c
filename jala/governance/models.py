"""Governance under the charter: membership, committee offices, meetings, votes, handovers.

The database enforces what must hold under concurrency: one vote per library per agenda item,
no vote on a closed item or by a library that has not checked in, tallies that never change
once an item is closed, one open handover, one committee chair.
"""
from sqlalchemy.dialects.postgresql import JSONB

from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db
from jala.files import StoredFile

APPLICATION_STATUSES = ("submitted", "returned", "complete", "on_agenda", "admitted", "rejected")
OPEN_APPLICATION = ("submitted", "complete", "on_agenda")  # still being handled
# what each kind needs and does is resolutions.KINDS, which refuses to load if the two differ
ITEM_KINDS = ("application", "revocation", "resolution", "charter_amendment", "elect_chair",
              "remove_chair", "elect_vice_chair", "remove_vice_chair", "rotation_order",
              "budget", "expense", "commendation", "information")
VOTE_CHOICES = ("yes", "no", "abstain")
OFFICES = ("chair", "vice_chair")
WORKING_GROUPS = ("resources", "reader_services", "it", "reference")


class MembershipApplication(db.Model):
    """A Jiangxi university library's written application to join."""

    __tablename__ = "membership_applications"

    id = db.Column(db.Integer, primary_key=True)
    name_zh = db.Column(db.String(100), nullable=False)
    name_en = db.Column(db.String(200))
    code = db.Column(db.String(16), nullable=False)
    city = db.Column(db.String(50), nullable=False)
    website = db.Column(db.String(200))
    contact_name = db.Column(db.String(100), nullable=False)
    contact_email = db.Column(db.String(254), nullable=False)
    contact_phone = db.Column(db.String(40))
    letter_file_id = db.Column(db.Integer, db.ForeignKey("stored_files.id"), nullable=False)
    status = db.Column(db.String(10), nullable=False, default="submitted")
    reviewed_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    reviewed_at = db.Column(db.DateTime(timezone=True))
    review_note = db.Column(db.Text)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    decided_at = db.Column(db.DateTime(timezone=True))

    letter = db.relationship(StoredFile)
    library = db.relationship(Library)

    __table_args__ = (
        db.CheckConstraint(f"status IN {APPLICATION_STATUSES}", name="known_status"),
    )


class MembershipEvent(db.Model):
    """A step in a library's membership history (applied, admitted, withdrew, revoked)."""

    __tablename__ = "membership_events"

    id = db.Column(db.Integer, primary_key=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    application_id = db.Column(db.Integer, db.ForeignKey("membership_applications.id"))
    kind = db.Column(db.String(12), nullable=False)
    on = db.Column(db.Date, nullable=False)
    detail = db.Column(db.Text)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    __table_args__ = (
        db.CheckConstraint("kind IN ('applied', 'admitted', 'rejected', 'withdrew', 'revoked')",
                           name="known_kind"),
    )


class Withdrawal(db.Model):
    """A member's written notice of withdrawal (charter art. 15: no vote)."""

    __tablename__ = "withdrawals"

    id = db.Column(db.Integer, primary_key=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False, unique=True)
    notice_file_id = db.Column(db.Integer, db.ForeignKey("stored_files.id"), nullable=False)
    effective_on = db.Column(db.Date, nullable=False)
    submitted_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    reported_item_id = db.Column(db.Integer, db.ForeignKey("agenda_items.id"))

    library = db.relationship(Library)
    notice = db.relationship(StoredFile)


class CommitteeOffice(db.Model):
    """The committee chair (委员会主任) or a vice-chair (副主任), elected by resolution."""

    __tablename__ = "committee_offices"

    id = db.Column(db.Integer, primary_key=True)
    office = db.Column(db.String(10), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    started_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    ended_at = db.Column(db.DateTime(timezone=True))
    elected_by_item_id = db.Column(db.Integer, db.ForeignKey("agenda_items.id"))
    ended_by_item_id = db.Column(db.Integer, db.ForeignKey("agenda_items.id"))

    user = db.relationship(User)
    library = db.relationship(Library)

    __table_args__ = (
        db.CheckConstraint(f"office IN {OFFICES}", name="known_office"),
        db.Index("uq_committee_offices_one_chair", "office", unique=True,
                 postgresql_where=db.text("office = 'chair' AND ended_at IS NULL")),
        db.Index("uq_committee_offices_one_office_per_user", "user_id", "office", unique=True,
                 postgresql_where=db.text("ended_at IS NULL")),
    )


class Meeting(db.Model):
    """A committee meeting: requested jointly (until the third signature) or convened."""

    __tablename__ = "meetings"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    starts_at = db.Column(db.DateTime(timezone=True), nullable=False)
    place = db.Column(db.String(200))
    online_url = db.Column(db.String(500))
    status = db.Column(db.String(10), nullable=False, default="requested")
    convened_via = db.Column(db.String(10), nullable=False)
    requested_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    presiding_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    convened_at = db.Column(db.DateTime(timezone=True))
    closed_at = db.Column(db.DateTime(timezone=True))
    minutes_note = db.Column(db.Text)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    presiding = db.relationship(User, foreign_keys=[presiding_id])
    requested_by = db.relationship(User, foreign_keys=[requested_by_id])
    items = db.relationship("AgendaItem", back_populates="meeting", order_by="AgendaItem.position",
                            lazy="selectin")
    signatures = db.relationship("MeetingSignature", order_by="MeetingSignature.id",
                                 lazy="selectin")
    attendance = db.relationship("Attendance", order_by="Attendance.id", lazy="selectin")

    __table_args__ = (
        db.CheckConstraint("status IN ('requested', 'convened', 'closed')", name="known_status"),
        db.CheckConstraint("convened_via IN ('chair', 'vice_chair', 'joint')", name="known_via"),
        db.CheckConstraint("place IS NOT NULL OR online_url IS NOT NULL", name="place_or_link"),
    )


class MeetingSignature(db.Model):
    """A committee member's signature on a joint request to convene a meeting."""

    __tablename__ = "meeting_signatures"

    id = db.Column(db.Integer, primary_key=True)
    meeting_id = db.Column(db.Integer, db.ForeignKey("meetings.id"), nullable=False)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    signed_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    library = db.relationship(Library)

    __table_args__ = (db.UniqueConstraint("meeting_id", "library_id"),)


class AgendaItem(db.Model):
    """One item of a meeting's agenda, with its vote tally once closed."""

    __tablename__ = "agenda_items"

    id = db.Column(db.Integer, primary_key=True)
    meeting_id = db.Column(db.Integer, db.ForeignKey("meetings.id"), nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False)
    kind = db.Column(db.String(20), nullable=False)
    title = db.Column(db.String(300), nullable=False)
    body = db.Column(db.Text)
    application_id = db.Column(db.Integer, db.ForeignKey("membership_applications.id"))
    target_library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    target_user_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    # rotation order: [[year, library_id], ...]; budget/expense: amount in yuan
    payload = db.Column(JSONB, nullable=False, server_default="{}")
    amount = db.Column(db.Numeric(14, 2))
    status = db.Column(db.String(8), nullable=False, default="open")
    yes = db.Column(db.Integer)
    no = db.Column(db.Integer)
    abstain = db.Column(db.Integer)
    attending = db.Column(db.Integer)
    passed = db.Column(db.Boolean)
    closed_at = db.Column(db.DateTime(timezone=True))
    closed_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))

    meeting = db.relationship(Meeting, back_populates="items")
    application = db.relationship(MembershipApplication)
    target_library = db.relationship(Library)
    target_user = db.relationship(User, foreign_keys=[target_user_id])
    votes = db.relationship("Vote", lazy="selectin", order_by="Vote.id")

    __table_args__ = (
        db.CheckConstraint(f"kind IN {ITEM_KINDS}", name="known_kind"),
        db.CheckConstraint("status IN ('open', 'closed')", name="known_status"),
        db.CheckConstraint("status = 'open' OR kind = 'information' OR (yes IS NOT NULL AND "
                        "attending IS NOT NULL AND passed IS NOT NULL)", name="closed_has_tally"),
        db.UniqueConstraint("meeting_id", "position"),
    )

    @property
    def takes_vote(self):
        return self.kind != "information"


class Attendance(db.Model):
    """A member library checked in to a meeting (in person or online)."""

    __tablename__ = "attendance"

    id = db.Column(db.Integer, primary_key=True)
    meeting_id = db.Column(db.Integer, db.ForeignKey("meetings.id"), nullable=False)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    mode = db.Column(db.String(10), nullable=False)
    checked_in_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    library = db.relationship(Library)

    __table_args__ = (
        db.UniqueConstraint("meeting_id", "library_id"),
        db.CheckConstraint("mode IN ('in_person', 'online')", name="known_mode"),
    )


class Vote(db.Model):
    """One member library's vote on one agenda item (changeable until the item closes)."""

    __tablename__ = "votes"

    id = db.Column(db.BigInteger, primary_key=True)
    item_id = db.Column(db.Integer, db.ForeignKey("agenda_items.id"), nullable=False)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    choice = db.Column(db.String(8), nullable=False)
    cast_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    library = db.relationship(Library)

    __table_args__ = (
        db.UniqueConstraint("item_id", "library_id"),
        db.CheckConstraint(f"choice IN {VOTE_CHOICES}", name="known_choice"),
    )


class Handover(db.Model):
    """The chair library handing the management center (and portal admin roles) over."""

    __tablename__ = "handovers"

    id = db.Column(db.Integer, primary_key=True)
    year = db.Column(db.Integer, nullable=False)
    from_library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    to_library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    status = db.Column(db.String(10), nullable=False, default="open")
    started_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    started_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    accepted_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    accepted_at = db.Column(db.DateTime(timezone=True))
    note = db.Column(db.Text)

    from_library = db.relationship(Library, foreign_keys=[from_library_id])
    to_library = db.relationship(Library, foreign_keys=[to_library_id])

    __table_args__ = (
        db.CheckConstraint("status IN ('open', 'accepted', 'cancelled')", name="known_status"),
        db.Index("uq_handovers_one_open", "status", unique=True,
                 postgresql_where=db.text("status = 'open'")),
    )


class WorkingGroupMember(db.Model):
    """A person in one of the four working groups (资源建设, 读者服务, 信息技术, 参考咨询)."""

    __tablename__ = "working_group_members"

    id = db.Column(db.Integer, primary_key=True)
    group = db.Column(db.String(20), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    is_lead = db.Column(db.Boolean, nullable=False, default=False)
    added_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    user = db.relationship(User)

    __table_args__ = (
        db.CheckConstraint(f"\"group\" IN {WORKING_GROUPS}", name="known_group"),
        db.UniqueConstraint("group", "user_id"),
    )


class AnnualDocument(db.Model):
    """The management center's annual work plan or annual report."""

    __tablename__ = "annual_documents"

    id = db.Column(db.Integer, primary_key=True)
    year = db.Column(db.Integer, nullable=False)
    kind = db.Column(db.String(8), nullable=False)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    body = db.Column(db.Text, nullable=False)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    published_at = db.Column(db.DateTime(timezone=True))

    library = db.relationship(Library)

    __table_args__ = (
        db.CheckConstraint("kind IN ('plan', 'report')", name="known_kind"),
        db.UniqueConstraint("year", "kind"),
    )


class CostShare(db.Model):
    """A member library's share of the alliance's costs for one year (yuan)."""

    __tablename__ = "cost_shares"

    id = db.Column(db.Integer, primary_key=True)
    year = db.Column(db.Integer, nullable=False)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    amount = db.Column(db.Numeric(14, 2), nullable=False)
    paid_on = db.Column(db.Date)

    library = db.relationship(Library)

    __table_args__ = (
        db.UniqueConstraint("year", "library_id"),
        db.CheckConstraint("amount >= 0", name="not_negative"),
    )


class Expense(db.Model):
    """Money the management center spent (reported to the committee every year)."""

    __tablename__ = "expenses"

    id = db.Column(db.Integer, primary_key=True)
    year = db.Column(db.Integer, nullable=False, index=True)
    spent_on = db.Column(db.Date, nullable=False)
    description = db.Column(db.String(300), nullable=False)
    amount = db.Column(db.Numeric(14, 2), nullable=False)
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    recorded_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    approved_by_item_id = db.Column(db.Integer, db.ForeignKey("agenda_items.id"))

    __table_args__ = (db.CheckConstraint("amount > 0", name="positive"),)
