"""Migrations: one head, and upgrade → downgrade → upgrade works on an empty database."""
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from jala.cli import alembic_config
from tests.support.app import migrate


def test_single_head():
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1


def test_every_revision_has_a_downgrade():
    script = ScriptDirectory.from_config(alembic_config())
    for revision in script.walk_revisions():
        source = Path(revision.path).read_text(encoding="utf-8")
        body = source.split("def downgrade():", 1)[1]
        assert body.strip() and not body.strip().startswith("pass"), revision.path


def test_upgrade_downgrade_upgrade_on_an_empty_database(postgres):
    url, name = postgres.create("jala_migrate")
    try:
        migrate(url)
        migrate(url, "base", direction="downgrade")
        engine = create_engine(url)
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        migrate(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM libraries")).scalar() == 15
            assert conn.execute(text(
                "SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).scalar() == 1
        engine.dispose()
    finally:
        postgres.drop(name)
