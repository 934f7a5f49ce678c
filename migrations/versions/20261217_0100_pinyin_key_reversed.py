"""an index on the reversed pinyin key of records

Pinyin typed with a slip, when it is long, is looked for among the titles whose pinyin key
begins with the first third of the letters or ends with the last (one slip spoils at most
one of them): a btree prefix of the key, and of the key reversed. Without this index the ending
is a scan of the whole table. A sharded catalogue's buckets on other servers get it too.

Revision ID: a4c5d6e7f803
Revises: f3b4c5d6e702
Create Date: 2026-12-17 01:00
"""
from alembic import op
from sqlalchemy import text

revision = "a4c5d6e7f803"
down_revision = "f3b4c5d6e702"
branch_labels = None
depends_on = None

NAME = "ix_records_pinyin_key_reversed"


def _sharded():
    return bool(op.get_bind().execute(text(
        "SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass('records')")).scalar())


def upgrade():
    op.create_index(NAME, "records", [text("reverse(pinyin_key) text_pattern_ops")])
    if _sharded():
        from jala.catalog.models import Record
        from jala.shards.indexes import build_missing_bucket_indexes

        build_missing_bucket_indexes([i for i in Record.__table__.indexes if i.name == NAME])


def downgrade():
    if _sharded():  # first: dropping the parent's index locks the buckets the layout reads
        from jala.shards.indexes import drop_bucket_indexes

        drop_bucket_indexes([NAME])
    op.drop_index(NAME, table_name="records")
