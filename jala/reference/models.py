"""Ask a librarian (联合虚拟参考咨询): questions, threads, and the published FAQ."""
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import relationship

from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db
from jala.files import StoredFile

QUESTION_STATUSES = ("open", "answered", "closed")


class Question(db.Model):
    """A reader's question to the reference desk of the whole alliance."""

    __tablename__ = "reference_questions"

    id = Column(Integer, primary_key=True)
    asker_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    subject = Column(String(200), nullable=False)
    status = Column(String(10), nullable=False, default="open")
    created_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    last_activity_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    claimed_by_id = Column(Integer, ForeignKey("users.id"))
    claimed_library_id = Column(Integer, ForeignKey("libraries.id"))
    first_response_at = Column(DateTime(timezone=True))
    # timer: an unanswered question escalates then
    escalate_at = Column(DateTime(timezone=True))
    escalated_at = Column(DateTime(timezone=True))
    # the published, anonymised version (the FAQ), searchable like the catalogue
    faq_question = Column(Text)
    faq_answer = Column(Text)
    faq_published_at = Column(DateTime(timezone=True))
    faq_vector = Column(TSVECTOR)

    asker = relationship(User, foreign_keys=[asker_id])
    claimed_by = relationship(User, foreign_keys=[claimed_by_id])
    claimed_library = relationship(Library)
    messages = relationship("QuestionMessage", order_by="QuestionMessage.id", lazy="selectin")

    __table_args__ = (
        CheckConstraint(f"status IN {QUESTION_STATUSES}", name="known_status"),
        Index("ix_reference_questions_escalate_at", escalate_at,
              postgresql_where=text("escalate_at IS NOT NULL")),
        Index("ix_reference_questions_faq_vector", faq_vector, postgresql_using="gin"),
    )


class QuestionMessage(db.Model):
    """One message of a question's thread (the reader's or a librarian's)."""

    __tablename__ = "reference_messages"

    id = Column(Integer, primary_key=True)
    question_id = Column(Integer, ForeignKey("reference_questions.id"), nullable=False,
                         index=True)
    author_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    # set when a librarian writes: the answering library, for statistics
    library_id = Column(Integer, ForeignKey("libraries.id"))
    body = Column(Text, nullable=False)
    attachment_id = Column(Integer, ForeignKey("stored_files.id"))
    created_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    author = relationship(User)
    library = relationship(Library)
    attachment = relationship(StoredFile)
