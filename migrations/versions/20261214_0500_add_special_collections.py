"""add special collections: special collections, items, IIIF images

Revision ID: d1b2c3e4f505
Revises: d1b2c3e4f504
Create Date: 2026-12-14 05:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "d1b2c3e4f505"
down_revision = "d1b2c3e4f504"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "special_collections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.CheckConstraint("kind IN ('local', 'red', 'theses', 'images', 'audio_video', "
                           "'other')", name=op.f("ck_special_collections_known_kind")),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_special_collections_library_id_libraries")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_special_collections_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_special_collections")),
    )
    op.create_index(op.f("ix_special_collections_library_id"), "special_collections",
                    ["library_id"])
    op.create_table(
        "collection_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("dc", postgresql.JSONB(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("published_at", TZ, nullable=True),
        sa.CheckConstraint("status IN ('draft', 'published')",
                           name=op.f("ck_collection_items_known_status")),
        sa.ForeignKeyConstraint(["collection_id"], ["special_collections.id"],
                                name=op.f("fk_collection_items_collection_id_special_collections")),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="SET NULL",
                                name=op.f("fk_collection_items_record_id_records")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_collection_items_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_items")),
    )
    op.create_index(op.f("ix_collection_items_collection_id"), "collection_items",
                    ["collection_id"])
    op.create_table(
        "collection_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("stored_file_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("tiles", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["collection_items.id"],
                                name=op.f("fk_collection_images_item_id_collection_items")),
        sa.ForeignKeyConstraint(["stored_file_id"], ["stored_files.id"],
                                name=op.f("fk_collection_images_stored_file_id_stored_files")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_images")),
        sa.UniqueConstraint("key", name=op.f("uq_collection_images_key")),
    )
    op.create_index(op.f("ix_collection_images_item_id"), "collection_images", ["item_id"])
    # the search's collection facet filters union records on the collection they came from
    op.execute("CREATE INDEX ix_records_special_collection ON records "
               "((extra ->> 'special_collection')) "
               "WHERE (extra ->> 'special_collection') IS NOT NULL")


ITEM_SOURCES = "source_id LIKE 'special-collections:item:%'"  # jala.collections SOURCE_PREFIX


def downgrade():
    # the union records published items made: a record only they hold goes (its sources and
    # holdings with it); one another library's record joined loses their sources, holdings
    # and collection keys
    op.execute(f"""
        DELETE FROM records r
        WHERE EXISTS (SELECT 1 FROM source_records s WHERE s.record_id = r.id AND s.{ITEM_SOURCES})
          AND NOT EXISTS (SELECT 1 FROM source_records s
                          WHERE s.record_id = r.id AND NOT s.{ITEM_SOURCES})""")
    op.execute(f"DELETE FROM source_records WHERE {ITEM_SOURCES}")  # their holdings cascade
    op.execute("""
        UPDATE records r
        SET extra = r.extra - 'special_collection' - 'special_collection_title',
            holdings_count = (SELECT count(*) FROM holdings h WHERE h.record_id = r.id),
            library_ids = coalesce((SELECT array_agg(DISTINCT h.library_id) FROM holdings h
                                    WHERE h.record_id = r.id), '{}')
        WHERE r.extra ->> 'special_collection' IS NOT NULL
           OR r.extra ->> 'special_collection_title' IS NOT NULL""")
    op.execute("DROP INDEX IF EXISTS ix_records_special_collection")
    op.drop_index(op.f("ix_collection_images_item_id"), table_name="collection_images")
    op.drop_table("collection_images")
    op.drop_index(op.f("ix_collection_items_collection_id"), table_name="collection_items")
    op.drop_table("collection_items")
    op.drop_index(op.f("ix_special_collections_library_id"), table_name="special_collections")
    op.drop_table("special_collections")
