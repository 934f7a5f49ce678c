"""The primary goes away between the SMTP server's "250 OK" and the worker's commit.

In a failover the worker's connection dies with the old primary, sometimes just after the
SMTP server took an email and before the worker recorded it as sent. Left pending, the email
would be swept up and sent again; the worker instead records it as sent on a new connection
once the database answers. Here the connection is cut (``pg_terminate_backend``) while the
server holds the message, so the moment is hit every time.
"""
import psycopg
import pytest
from sqlalchemy.engine import make_url

from jala.extensions import db
from jala.jobs import OutboxEmail, queue_email
from tests.support.workers import wait_for

pytestmark = pytest.mark.timeout(90)


def cut_the_senders_connection_on_receipt(smtp, database_url):
    """Make ``smtp`` end the worker's database session before it answers 250 to a message."""
    url = make_url(database_url)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    original = smtp.handler.handle_DATA
    cut = []

    async def cut_then_accept(server, session, envelope):
        with psycopg.connect(conninfo, autocommit=True) as conn:
            cut.extend(row[0] for row in conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() "
                "AND state = 'idle in transaction' AND query ILIKE %s",
                (url.database, "%outbox_emails%FOR UPDATE%")))
        return await original(server, session, envelope)

    smtp.handler.handle_DATA = cut_then_accept
    return cut


def test_email_taken_by_the_server_as_the_connection_dies_is_recorded_and_sent_once(app, faults):
    cut = cut_the_senders_connection_on_receipt(faults.smtp, app.config["DATABASE_URL"])
    with app.app_context():
        row_id = queue_email("cut@example.com", "Connection cut", "Body", kind="test").id
        db.session.commit()
    faults.start_worker()

    def status():
        with app.app_context():
            row = db.session.get(OutboxEmail, row_id)
            db.session.remove()
            return row.status, row.attempts

    wait_for(lambda: status()[0] == "sent", what="the email to be recorded as sent",
             diagnose=faults.worker_logs)
    assert cut == [True], "the worker's session was not cut while the server had the message"
    assert status() == ("sent", 1)  # left pending, the sweeper would send it again
    assert [m["To"] for m in faults.smtp.messages] == ["cut@example.com"]
    assert "recorded after the database came back" in faults.worker_logs()
