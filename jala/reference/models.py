"""Ask a librarian (联合虚拟参考咨询): questions, threads, and the published FAQ."""
from sqlalchemy.dialects.postgresql import TSVECTOR

from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db
from jala.files import StoredFile

QUESTION_STATUSES = ("open", "answered", "closed")


class Question(db.Model):
    """A reader's question to the reference desk of the whole alliance."""

    __tablename__ = "reference_questions"

    id = db.Column(db.Integer, primary_key=True)
    asker_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    subject = db.Column(db.String(200), nullable=False)
    status = db.Column(db.String(10), nullable=False, default="open")
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    last_activity_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    claimed_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    claimed_library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    first_response_at = db.Column(db.DateTime(timezone=True))
    # timer: an unanswered question escalates then
    escalate_at = db.Column(db.DateTime(timezone=True))
    escalated_at = db.Column(db.DateTime(timezone=True))
    # the published, anonymised version (the FAQ), searchable like the catalogue
    faq_question = db.Column(db.Text)
    faq_answer = db.Column(db.Text)
    faq_published_at = db.Column(db.DateTime(timezone=True))
    faq_vector = db.Column(TSVECTOR)

    asker = db.relationship(User, foreign_keys=[asker_id])
    claimed_by = db.relationship(User, foreign_keys=[claimed_by_id])
    claimed_library = db.relationship(Library)
    messages = db.relationship("QuestionMessage", order_by="QuestionMessage.id", lazy="selectin")

    __table_args__ = (
        db.CheckConstraint(f"status IN {QUESTION_STATUSES}", name="known_status"),
        db.Index("ix_reference_questions_escalate_at", escalate_at,
                 postgresql_where=db.text("escalate_at IS NOT NULL")),
        db.Index("ix_reference_questions_faq_vector", faq_vector, postgresql_using="gin"),
    )


class QuestionMessage(db.Model):
    """One message of a question's thread (the reader's or a librarian's)."""

    __tablename__ = "reference_messages"

    id = db.Column(db.Integer, primary_key=True)
    question_id = db.Column(db.Integer, db.ForeignKey("reference_questions.id"), nullable=False,
                            index=True)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    # set when a librarian writes: the answering library, for statistics
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    body = db.Column(db.Text, nullable=False)
    attachment_id = db.Column(db.Integer, db.ForeignKey("stored_files.id"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    author = db.relationship(User)
    library = db.relationship(Library)
    attachment = db.relationship(StoredFile)
