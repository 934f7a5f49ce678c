"""Submissions to the union cataloguing centre, their history, and MARC downloads."""
from sqlalchemy.dialects.postgresql import JSONB

from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db

KINDS = ("original", "correction")
FLAVOURS = ("marc21", "cnmarc")
STATUSES = ("submitted", "returned", "approved", "merged", "withdrawn")
DOWNLOAD_FORMATS = ("mrc", "xml", "cnmarc")


class CataloguingSubmission(db.Model):
    """An original record, or a correction to a union record, sent by a member library.

    ``fields`` are the editor's rows ``[tag, ind1, ind2, value]``: a control field's data, or a
    data field's subfields written ``$a…$b…``. ``record_id`` is the union record corrected, or
    the one the approved (or merged) record became.
    """

    __tablename__ = "cataloguing_submissions"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(12), nullable=False, default="original")
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False, index=True)
    submitter_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    status = db.Column(db.String(12), nullable=False, default="submitted")
    flavour = db.Column(db.String(8), nullable=False, default="marc21")
    leader = db.Column(db.String(24), nullable=False)
    fields = db.Column(JSONB, nullable=False, default=list)
    title = db.Column(db.Text, nullable=False)
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id", ondelete="SET NULL"),
                          index=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    decided_at = db.Column(db.DateTime(timezone=True))

    library = db.relationship(Library)
    submitter = db.relationship(User)
    events = db.relationship("CataloguingEvent", order_by="CataloguingEvent.id",
                             back_populates="submission", lazy="selectin")

    __table_args__ = (
        db.CheckConstraint(f"kind IN {KINDS}", name="kind"),
        db.CheckConstraint(f"status IN {STATUSES}", name="status"),
        db.CheckConstraint(f"flavour IN {FLAVOURS}", name="flavour"),
        db.Index("ix_cataloguing_submissions_status", "status", "id"),
    )


class CataloguingEvent(db.Model):
    """One step of a submission's history: who did what, when, with which comment."""

    __tablename__ = "cataloguing_events"

    id = db.Column(db.BigInteger, primary_key=True)
    submission_id = db.Column(db.Integer, db.ForeignKey("cataloguing_submissions.id",
                                                        ondelete="CASCADE"),
                              nullable=False, index=True)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    action = db.Column(db.String(12), nullable=False)
    from_status = db.Column(db.String(12))
    to_status = db.Column(db.String(12), nullable=False)
    comment = db.Column(db.Text)
    # the rows as they stood after this step (a resubmission's edits stay readable)
    fields = db.Column(JSONB)

    submission = db.relationship(CataloguingSubmission, back_populates="events")
    actor = db.relationship(User)


class CataloguingDownload(db.Model):
    """A MARC record downloaded for copy cataloguing: which record, which library, no person."""

    __tablename__ = "cataloguing_downloads"

    id = db.Column(db.BigInteger, primary_key=True)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    record_id = db.Column(db.BigInteger, nullable=False, index=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), index=True)
    format = db.Column(db.String(8), nullable=False)
