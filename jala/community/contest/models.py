"""Tables of the search contest: rounds, their questions, one attempt per person, answers."""
from sqlalchemy.dialects.postgresql import JSONB

from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db

ROUND_KINDS = ("practice", "official")
QUESTION_KINDS = ("single", "multiple", "text")
RANKINGS = ("average", "sum")


class ContestRound(db.Model):
    """A round of the search contest (搜索大赛), alliance-wide or of one library."""

    __tablename__ = "contest_rounds"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    # None: the alliance (organised by the management centre); else one library's own round
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    kind = db.Column(db.String(10), nullable=False, default="official")
    opens_at = db.Column(db.DateTime(timezone=True), nullable=False)
    closes_at = db.Column(db.DateTime(timezone=True), nullable=False)
    time_limit_minutes = db.Column(db.Integer, nullable=False)
    # libraries are ranked by the average (or the sum) of their best ``top_n`` contestants
    ranking = db.Column(db.String(10), nullable=False, default="average")
    top_n = db.Column(db.Integer, nullable=False, default=5)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    # a draft until published; questions are fixed from then on
    published_at = db.Column(db.DateTime(timezone=True))

    library = db.relationship(Library)
    created_by = db.relationship(User)
    questions = db.relationship("ContestQuestion", order_by="ContestQuestion.position",
                                lazy="selectin", back_populates="round")

    __table_args__ = (
        db.CheckConstraint(f"kind IN {ROUND_KINDS}", name="known_kind"),
        db.CheckConstraint(f"ranking IN {RANKINGS}", name="known_ranking"),
        db.CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        db.CheckConstraint("time_limit_minutes BETWEEN 1 AND 600", name="sane_time_limit"),
        db.CheckConstraint("top_n BETWEEN 1 AND 100", name="sane_top_n"),
    )


class ContestQuestion(db.Model):
    """One question of a round; its answer is found in the portal."""

    __tablename__ = "contest_questions"

    id = db.Column(db.Integer, primary_key=True)
    round_id = db.Column(db.Integer, db.ForeignKey("contest_rounds.id", ondelete="CASCADE"),
                         nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False)
    kind = db.Column(db.String(10), nullable=False)
    prompt = db.Column(db.Text, nullable=False)
    # the choices (single and multiple choice), in the organiser's order
    choices = db.Column(JSONB, nullable=False, default=list)
    # indices of the right choices, or the accepted text answers; never sent to a contestant
    # before the round closes
    correct = db.Column(JSONB, nullable=False, default=list)
    points = db.Column(db.Integer, nullable=False, default=1)
    hint_url = db.Column(db.String(500))

    round = db.relationship(ContestRound, back_populates="questions")

    __table_args__ = (
        db.CheckConstraint(f"kind IN {QUESTION_KINDS}", name="known_kind"),
        db.CheckConstraint("points BETWEEN 1 AND 100", name="sane_points"),
    )


class ContestAttempt(db.Model):
    """A contestant's one timed attempt at a round (a practice round's is started afresh)."""

    __tablename__ = "contest_attempts"

    id = db.Column(db.Integer, primary_key=True)
    round_id = db.Column(db.Integer, db.ForeignKey("contest_rounds.id", ondelete="CASCADE"),
                         nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    # the contestant's library when they started (the library ranking), None for public users
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    public_name = db.Column(db.String(40), nullable=False)
    seed = db.Column(db.BigInteger, nullable=False)  # the question order, the same on reload
    started_at = db.Column(db.DateTime(timezone=True), nullable=False)
    deadline = db.Column(db.DateTime(timezone=True), nullable=False)
    submitted_at = db.Column(db.DateTime(timezone=True))
    score = db.Column(db.Integer)
    correct_count = db.Column(db.Integer)
    duration_seconds = db.Column(db.Integer)

    round = db.relationship(ContestRound)
    user = db.relationship(User)
    library = db.relationship(Library)
    answers = db.relationship("ContestAnswer", lazy="selectin", cascade="all, delete-orphan")

    __table_args__ = (
        # one attempt per person and round: a second start (another tab) finds this one
        db.UniqueConstraint("round_id", "user_id"),
        db.CheckConstraint("deadline > started_at", name="deadline_after_start"),
    )


class ContestAnswer(db.Model):
    """A contestant's answer to one question (saved as they go, checked on submission)."""

    __tablename__ = "contest_answers"

    id = db.Column(db.Integer, primary_key=True)
    attempt_id = db.Column(db.Integer, db.ForeignKey("contest_attempts.id", ondelete="CASCADE"),
                           nullable=False)
    question_id = db.Column(db.Integer,
                            db.ForeignKey("contest_questions.id", ondelete="CASCADE"),
                            nullable=False, index=True)
    # chosen indices (a list) or the typed text (a string)
    value = db.Column(JSONB, nullable=False)
    is_correct = db.Column(db.Boolean)
    points = db.Column(db.Integer)
    answered_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    __table_args__ = (db.UniqueConstraint("attempt_id", "question_id"),)
