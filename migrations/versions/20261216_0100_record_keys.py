"""a sharded catalogue's foreign keys onto records.id reference record_keys

The first `jala shards` replaced them with an ON DELETE trigger on records (and, briefly,
statement triggers checking new references on each referencing table). A sharded catalogue
made by it gets `record_keys` (every record's id, on the primary) and its foreign keys back,
pointed at that table, and its shards' sessions run without JIT; one that was never sharded
is not touched.

Revision ID: f3b4c5d6e702
Revises: e2a3b4c5d601
Create Date: 2026-12-16 01:00
"""
from alembic import op
from sqlalchemy import text

revision = "f3b4c5d6e702"
down_revision = "e2a3b4c5d601"
branch_labels = None
depends_on = None


def _sharded(conn):
    return bool(conn.execute(text(
        "SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass('records')")).scalar())


def upgrade():
    from jala.shards.remote import SERVER_OPTIONS
    from jala.shards.schema import install_key_table

    conn = op.get_bind()
    if not _sharded(conn):
        return
    checks = conn.execute(text(
        "SELECT t.tgrelid::regclass::text, t.tgname FROM pg_trigger t "
        "JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'records_shard_key_check'")).all()
    for table, name in checks:
        conn.execute(text(f'DROP TRIGGER "{name}" ON {table}'))
    conn.execute(text("DROP FUNCTION IF EXISTS records_shard_key_check()"))
    install_key_table(conn)  # the ids read from every bucket
    # the shards' sessions run without JIT too (jala/extensions.py says why)
    servers = conn.execute(text("SELECT server_name FROM shards")).scalars().all()
    for server in servers:
        conn.execute(text(f"ALTER SERVER {server} OPTIONS (SET options "
                          f"'{SERVER_OPTIONS['options']}')"))


def downgrade():
    if _sharded(op.get_bind()):
        raise RuntimeError("a sharded catalogue's foreign keys stay on record_keys: the "
                           "trigger that replaced them before is gone from the code")
