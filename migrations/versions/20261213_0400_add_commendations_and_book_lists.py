"""add commendations and book lists: commendations and book lists

Also lets a committee agenda item be of kind ``commendation`` (a nomination voted on).

Revision ID: c0a1e2f3a404
Revises: c0a1e2f3a403
Create Date: 2026-12-13 04:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c0a1e2f3a404"
down_revision = "c0a1e2f3a403"
branch_labels = None
depends_on = None

OLD_KINDS = ("'application', 'revocation', 'resolution', 'charter_amendment', 'elect_chair', "
             "'remove_chair', 'elect_vice_chair', 'remove_vice_chair', 'rotation_order', "
             "'budget', 'expense', 'information'")
NEW_KINDS = ("'application', 'revocation', 'resolution', 'charter_amendment', 'elect_chair', "
             "'remove_chair', 'elect_vice_chair', 'remove_vice_chair', 'rotation_order', "
             "'budget', 'expense', 'commendation', 'information'")


def upgrade():
    op.drop_constraint(op.f("ck_agenda_items_known_kind"), "agenda_items", type_="check")
    op.create_check_constraint(op.f("ck_agenda_items_known_kind"), "agenda_items",
                               f"kind IN ({NEW_KINDS})")

    op.create_table(
        "commendation_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("news_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("closes_on >= opens_on",
                           name=op.f("ck_commendation_years_window_in_order")),
        sa.CheckConstraint("published_at IS NULL OR news_id IS NOT NULL",
                           name=op.f("ck_commendation_years_published_as_news")),
        sa.ForeignKeyConstraint(["opened_by_id"], ["users.id"],
                                name=op.f("fk_commendation_years_opened_by_id_users")),
        sa.ForeignKeyConstraint(["published_by_id"], ["users.id"],
                                name=op.f("fk_commendation_years_published_by_id_users")),
        sa.ForeignKeyConstraint(["news_id"], ["news_items.id"],
                                name=op.f("fk_commendation_years_news_id_news_items")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_commendation_years")),
    )
    op.create_table(
        "commendation_nominations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("person_name", sa.String(length=100), nullable=True),
        sa.Column("person_title", sa.String(length=100), nullable=True),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("nominating_library_id", sa.Integer(), nullable=False),
        sa.Column("nominated_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('unit', 'individual')",
                           name=op.f("ck_commendation_nominations_known_kind")),
        sa.CheckConstraint("(kind = 'unit') = (person_name IS NULL)",
                           name=op.f("ck_commendation_nominations_person_iff_individual")),
        sa.ForeignKeyConstraint(["year"], ["commendation_years.year"],
                                name=op.f("fk_commendation_nominations_year_commendation_years")),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_commendation_nominations_library_id_libraries")),
        sa.ForeignKeyConstraint(
            ["nominating_library_id"], ["libraries.id"],
            name=op.f("fk_commendation_nominations_nominating_library_id_libraries")),
        sa.ForeignKeyConstraint(["nominated_by_id"], ["users.id"],
                                name=op.f("fk_commendation_nominations_nominated_by_id_users")),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"], ["agenda_items.id"],
            name=op.f("fk_commendation_nominations_agenda_item_id_agenda_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commendation_nominations")),
        sa.UniqueConstraint("agenda_item_id",
                            name=op.f("uq_commendation_nominations_agenda_item_id")),
    )
    op.create_index(op.f("ix_commendation_nominations_year"), "commendation_nominations",
                    ["year"])
    op.create_index(op.f("ix_commendation_nominations_library_id"), "commendation_nominations",
                    ["library_id"])
    op.create_index("uq_commendation_nominations_one_unit", "commendation_nominations",
                    ["year", "library_id"], unique=True,
                    postgresql_where=sa.text("kind = 'unit'"))
    op.create_index("uq_commendation_nominations_one_person", "commendation_nominations",
                    ["year", "library_id", "person_name"], unique=True,
                    postgresql_where=sa.text("kind = 'individual'"))

    op.create_table(
        "book_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("theme", sa.String(length=100), nullable=True),
        sa.Column("introduction", sa.Text(), nullable=True),
        sa.Column("cover_record_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_book_lists_library_id_libraries")),
        sa.ForeignKeyConstraint(["cover_record_id"], ["records.id"], ondelete="SET NULL",
                                name=op.f("fk_book_lists_cover_record_id_records")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_book_lists_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_book_lists")),
    )
    op.create_index(op.f("ix_book_lists_library_id"), "book_lists", ["library_id"])
    op.create_index("ix_book_lists_published_at", "book_lists", ["published_at"],
                    postgresql_where=sa.text("published_at IS NOT NULL"))
    op.create_table(
        "book_list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_list_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["book_list_id"], ["book_lists.id"], ondelete="CASCADE",
                                name=op.f("fk_book_list_entries_book_list_id_book_lists")),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="CASCADE",
                                name=op.f("fk_book_list_entries_record_id_records")),
        sa.ForeignKeyConstraint(["added_by_id"], ["users.id"],
                                name=op.f("fk_book_list_entries_added_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_book_list_entries")),
        sa.UniqueConstraint("book_list_id", "record_id",
                            name=op.f("uq_book_list_entries_book_list_id_record_id")),
    )
    op.create_index(op.f("ix_book_list_entries_record_id"), "book_list_entries", ["record_id"])


def downgrade():
    op.drop_index(op.f("ix_book_list_entries_record_id"), table_name="book_list_entries")
    op.drop_table("book_list_entries")
    op.drop_index("ix_book_lists_published_at", table_name="book_lists")
    op.drop_index(op.f("ix_book_lists_library_id"), table_name="book_lists")
    op.drop_table("book_lists")
    op.drop_index("uq_commendation_nominations_one_person", table_name="commendation_nominations")
    op.drop_index("uq_commendation_nominations_one_unit", table_name="commendation_nominations")
    op.drop_index(op.f("ix_commendation_nominations_library_id"),
                  table_name="commendation_nominations")
    op.drop_index(op.f("ix_commendation_nominations_year"), table_name="commendation_nominations")
    op.drop_table("commendation_nominations")
    op.drop_table("commendation_years")

    # the votes on nominations stay in the minutes as plain resolutions (closed items are
    # final for the portal, not for a schema change)
    op.execute("ALTER TABLE agenda_items DISABLE TRIGGER closed_items_are_final")
    op.execute("UPDATE agenda_items SET kind = 'resolution' WHERE kind = 'commendation'")
    op.execute("ALTER TABLE agenda_items ENABLE TRIGGER closed_items_are_final")
    op.drop_constraint(op.f("ck_agenda_items_known_kind"), "agenda_items", type_="check")
    op.create_check_constraint(op.f("ck_agenda_items_known_kind"), "agenda_items",
                               f"kind IN ({OLD_KINDS})")
