"""add OAI-PMH: deleted-record tombstones, the datestamp index, harvest sources of libraries

Revision ID: 3a9c4e6f8b21
Revises: 8c3e5a7b9d12
Create Date: 2026-12-12 01:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "3a9c4e6f8b21"
down_revision = "8c3e5a7b9d12"
branch_labels = None
depends_on = None

# a record deleted, or leaving a library's set, leaves a tombstone; one coming back takes it
# away. In a trigger so that every path that removes a record or a holding library is seen.
# A deletion is stamped when it happens (clock_timestamp), not when its transaction began
# (now()): a long import's deletions would otherwise fall behind what harvesters already saw.
TOMBSTONE_FUNCTION = """
CREATE FUNCTION oai_keep_tombstones() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO oai_deletions (record_id, library_id, deleted_at)
    SELECT OLD.id, library_id, clock_timestamp()
    FROM (SELECT NULL::integer AS library_id UNION ALL SELECT unnest(OLD.library_ids)) gone
    ON CONFLICT (record_id, coalesce(library_id, 0)) DO UPDATE SET deleted_at = EXCLUDED.deleted_at;
    RETURN OLD;
  END IF;
  INSERT INTO oai_deletions (record_id, library_id, deleted_at)
  SELECT NEW.id, library_id, NEW.updated_at
  FROM unnest(OLD.library_ids) AS library_id WHERE library_id <> ALL (NEW.library_ids)
  ON CONFLICT (record_id, coalesce(library_id, 0)) DO UPDATE SET deleted_at = NEW.updated_at;
  DELETE FROM oai_deletions WHERE record_id = NEW.id AND library_id = ANY (NEW.library_ids);
  RETURN NEW;
END $$
"""


def upgrade():
    op.create_table(
        "oai_deletions",
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        # NULL: the record is gone from the catalogue; a library: it left that library's set
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute("CREATE UNIQUE INDEX uq_oai_deletions_record_library "
               "ON oai_deletions (record_id, coalesce(library_id, 0))")
    op.create_index("ix_oai_deletions_deleted_at_record_id", "oai_deletions",
                    ["deleted_at", "record_id"])
    op.create_index("ix_records_updated_at_id", "records", ["updated_at", "id"])
    op.execute(TOMBSTONE_FUNCTION)
    op.execute("CREATE TRIGGER oai_tombstones_on_delete AFTER DELETE ON records "
               "FOR EACH ROW EXECUTE FUNCTION oai_keep_tombstones()")
    op.execute("CREATE TRIGGER oai_tombstones_on_update AFTER UPDATE OF library_ids ON records "
               "FOR EACH ROW WHEN (OLD.library_ids IS DISTINCT FROM NEW.library_ids) "
               "EXECUTE FUNCTION oai_keep_tombstones()")
    op.create_table(
        "oai_harvest_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("set_spec", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("metadata_prefix", sa.String(length=20), nullable=False),
        sa.Column("interval_hours", sa.Integer(), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_datestamp", sa.String(length=30), nullable=True),
        sa.Column("run_from", sa.String(length=30), nullable=True),
        sa.Column("run_datestamp", sa.String(length=30), nullable=True),
        sa.Column("resumption_token", sa.Text(), nullable=True),
        sa.Column("run_counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  server_default="{}"),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_summary", sa.Text(), nullable=True),
        sa.Column("last_counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  server_default="{}"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_oai_harvest_sources_library_id_libraries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oai_harvest_sources")),
        sa.UniqueConstraint("library_id", "url", "set_spec", "metadata_prefix",
                            name=op.f("uq_oai_harvest_sources_library_id_url_set_spec_"
                                      "metadata_prefix")),
    )
    # inbound OpenURL looks a citation up by DOI and by ISSN (record_identifiers holds
    # neither an article's ISSN nor any DOI)
    op.execute("CREATE INDEX ix_records_doi_lower ON records (lower(doi))")
    op.create_index("ix_records_issn", "records", ["issn"], postgresql_using="gin")


def downgrade():
    op.drop_index("ix_records_issn", table_name="records")
    op.drop_index("ix_records_doi_lower", table_name="records")
    op.drop_table("oai_harvest_sources")
    op.execute("DROP TRIGGER oai_tombstones_on_update ON records")
    op.execute("DROP TRIGGER oai_tombstones_on_delete ON records")
    op.execute("DROP FUNCTION oai_keep_tombstones()")
    op.drop_index("ix_records_updated_at_id", table_name="records")
    op.drop_table("oai_deletions")
