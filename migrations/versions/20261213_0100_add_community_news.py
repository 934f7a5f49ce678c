"""add community news: news and notices, their attachments

Revision ID: c0a1e2f3a401
Revises: 5e1a9c3d7b24
Create Date: 2026-12-13 01:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c0a1e2f3a401"
down_revision = "5e1a9c3d7b24"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "news_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("category IN ('news', 'notice', 'decision', 'commendation')",
                           name=op.f("ck_news_items_known_category")),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_news_items_library_id_libraries")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_news_items_author_id_users")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_news_items_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_news_items")),
    )
    op.create_index(op.f("ix_news_items_library_id"), "news_items", ["library_id"])
    op.create_index("ix_news_items_published_at", "news_items", ["published_at"],
                    postgresql_where=sa.text("published_at IS NOT NULL"))
    op.create_table(
        "news_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("news_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("is_image", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["news_id"], ["news_items.id"],
                                name=op.f("fk_news_attachments_news_id_news_items"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["file_id"], ["stored_files.id"],
                                name=op.f("fk_news_attachments_file_id_stored_files")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_news_attachments")),
    )
    op.create_index(op.f("ix_news_attachments_news_id"), "news_attachments", ["news_id"])


def downgrade():
    op.drop_index(op.f("ix_news_attachments_news_id"), table_name="news_attachments")
    op.drop_table("news_attachments")
    op.drop_index("ix_news_items_published_at", table_name="news_items")
    op.drop_index(op.f("ix_news_items_library_id"), table_name="news_items")
    op.drop_table("news_items")
