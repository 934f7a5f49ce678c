"""add search contest: the search contest: rounds, questions, attempts

Revision ID: c0a1e2f3a403
Revises: c0a1e2f3a402
Create Date: 2026-12-13 03:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "c0a1e2f3a403"
down_revision = "c0a1e2f3a402"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "contest_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("opens_at", TZ, nullable=False),
        sa.Column("closes_at", TZ, nullable=False),
        sa.Column("time_limit_minutes", sa.Integer(), nullable=False),
        sa.Column("ranking", sa.String(length=10), nullable=False),
        sa.Column("top_n", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("published_at", TZ, nullable=True),
        sa.CheckConstraint("kind IN ('practice', 'official')",
                           name=op.f("ck_contest_rounds_known_kind")),
        sa.CheckConstraint("ranking IN ('average', 'sum')",
                           name=op.f("ck_contest_rounds_known_ranking")),
        sa.CheckConstraint("closes_at > opens_at",
                           name=op.f("ck_contest_rounds_closes_after_opening")),
        sa.CheckConstraint("time_limit_minutes BETWEEN 1 AND 600",
                           name=op.f("ck_contest_rounds_sane_time_limit")),
        sa.CheckConstraint("top_n BETWEEN 1 AND 100", name=op.f("ck_contest_rounds_sane_top_n")),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_contest_rounds_library_id_libraries")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_contest_rounds_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_rounds")),
    )
    op.create_table(
        "contest_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("choices", postgresql.JSONB(), nullable=False),
        sa.Column("correct", postgresql.JSONB(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("hint_url", sa.String(length=500), nullable=True),
        sa.CheckConstraint("kind IN ('single', 'multiple', 'text')",
                           name=op.f("ck_contest_questions_known_kind")),
        sa.CheckConstraint("points BETWEEN 1 AND 100",
                           name=op.f("ck_contest_questions_sane_points")),
        sa.ForeignKeyConstraint(["round_id"], ["contest_rounds.id"], ondelete="CASCADE",
                                name=op.f("fk_contest_questions_round_id_contest_rounds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_questions")),
    )
    op.create_index(op.f("ix_contest_questions_round_id"), "contest_questions", ["round_id"])
    op.create_table(
        "contest_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("public_name", sa.String(length=40), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("deadline", TZ, nullable=False),
        sa.Column("submitted_at", TZ, nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("correct_count", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.CheckConstraint("deadline > started_at",
                           name=op.f("ck_contest_attempts_deadline_after_start")),
        sa.ForeignKeyConstraint(["round_id"], ["contest_rounds.id"], ondelete="CASCADE",
                                name=op.f("fk_contest_attempts_round_id_contest_rounds")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_contest_attempts_user_id_users")),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_contest_attempts_library_id_libraries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_attempts")),
        sa.UniqueConstraint("round_id", "user_id",
                            name=op.f("uq_contest_attempts_round_id_user_id")),
    )
    op.create_index(op.f("ix_contest_attempts_user_id"), "contest_attempts", ["user_id"])
    op.create_table(
        "contest_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", postgresql.JSONB(), nullable=False),
        sa.Column("is_correct", sa.Boolean(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("answered_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["contest_attempts.id"], ondelete="CASCADE",
                                name=op.f("fk_contest_answers_attempt_id_contest_attempts")),
        sa.ForeignKeyConstraint(["question_id"], ["contest_questions.id"], ondelete="CASCADE",
                                name=op.f("fk_contest_answers_question_id_contest_questions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_answers")),
        sa.UniqueConstraint("attempt_id", "question_id",
                            name=op.f("uq_contest_answers_attempt_id_question_id")),
    )
    op.create_index(op.f("ix_contest_answers_question_id"), "contest_answers", ["question_id"])


def downgrade():
    op.drop_index(op.f("ix_contest_answers_question_id"), table_name="contest_answers")
    op.drop_table("contest_answers")
    op.drop_index(op.f("ix_contest_attempts_user_id"), table_name="contest_attempts")
    op.drop_table("contest_attempts")
    op.drop_index(op.f("ix_contest_questions_round_id"), table_name="contest_questions")
    op.drop_table("contest_questions")
    op.drop_table("contest_rounds")
