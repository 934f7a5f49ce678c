"""What the replica tests do: records and readers on the primary, searches, paused replay."""
import secrets
import string

from sqlalchemy import text

from jala.extensions import db
from tests.support.catalog import import_lines
from tests.support.factories import make_user

DATABASE = "jala_replicas"


def word():
    """A Latin word no other record has (the index keeps Latin words whole)."""
    return "rpl" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))


def add_record(app, title, library="JXUFE"):
    """Import one record on the primary and commit; returns its id."""
    with app.app_context():
        import_lines([{"source_id": f"rep-{secrets.token_hex(6)}", "title": title,
                       "holdings": [{"library": library, "status": "available"}]}],
                     library=library)
        db.session.commit()
        # the importer commits asynchronously; a synchronous commit of a write after it
        # flushes the WAL through it, so that what wait_caught_up waits for includes the record
        db.session.execute(text("SELECT pg_logical_emit_message(true, 'jala-test', 'flush')"))
        db.session.commit()
        return db.session.execute(text(
            "SELECT r.id FROM records r WHERE r.title = :t"), {"t": title}).scalar_one()


def add_reader(app, library="JXUFE"):
    """A verified reader, committed on the primary."""
    with app.app_context():
        user = make_user(library=library)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def hits(client, query):
    """How many records the JSON API finds for ``query``."""
    response = client.get(f"/api/v1/search?q={query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["total"]


def sql(cluster, statement, params=None):
    with cluster.connect(DATABASE, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


class paused_replay:
    """``with paused_replay(standby):`` — the standby receives WAL but does not apply it."""

    def __init__(self, standby):
        self.standby = standby

    def __enter__(self):
        sql(self.standby, "SELECT pg_wal_replay_pause()")
        return self

    def __exit__(self, *exc):
        sql(self.standby, "SELECT pg_wal_replay_resume()")


def search_log_count(cluster, query):
    return sql(cluster, "SELECT count(*) FROM search_log WHERE query = %s", (query,))[0][0]
