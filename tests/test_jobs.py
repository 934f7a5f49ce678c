"""The email outbox: relay after commit, idempotent sending, retries, the retry button."""
from datetime import timedelta

import pytest
from rq import Queue

from jala import clock
from jala.errors import RuleViolation
from jala.extensions import db
from jala.jobs import (
    MAX_ATTEMPTS,
    OutboxEmail,
    queue_email,
    retry_email,
    run_worker,
    send_outbox_email,
    sweep,
)
from tests.support.factories import make_user


def queued_ids(app, redis_service):
    q = Queue(app.config["RQ_QUEUE"], connection=redis_service.client)
    return [job.args[0] for job in q.jobs]


def test_commit_relays_the_email_to_rq_and_the_worker_sends_it(ctx, app, smtp, redis_service):
    redis_service.clear()
    smtp.clear()
    row = queue_email("reader@example.com", "标题 Subject", "正文 body", kind="test")
    assert queued_ids(app, redis_service) == []  # nothing leaves before the commit
    db.session.commit()
    assert queued_ids(app, redis_service) == [row.id]
    run_worker(app, burst=True)
    db.session.refresh(row)
    assert row.status == "sent" and row.attempts == 1
    [message] = smtp.messages
    assert message["Message-ID"].strip() == row.message_id
    assert message["Subject"] == "标题 Subject"
    assert "正文 body" in message.get_body(preferencelist=("plain",)).get_content()


def test_a_released_savepoint_relays_nothing_until_the_commit(ctx, app, redis_service):
    redis_service.clear()
    kept = queue_email("first@example.com", "S", "B", kind="test")
    savepoint = db.session.begin_nested()
    inner = queue_email("inner@example.com", "S", "B", kind="test")
    savepoint.commit()  # a SAVEPOINT release: other connections cannot see the rows yet
    assert queued_ids(app, redis_service) == []
    failed = db.session.begin_nested()
    queue_email("rolled-back@example.com", "S", "B", kind="test")
    failed.rollback()  # only this savepoint is undone; the emails before it still go
    db.session.commit()
    relayed = queued_ids(app, redis_service)
    assert kept.id in relayed and inner.id in relayed


def test_rollback_sends_nothing(ctx, app, smtp, redis_service):
    redis_service.clear()
    queue_email("reader@example.com", "S", "B", kind="test")
    db.session.rollback()
    assert queued_ids(app, redis_service) == []


def test_sending_twice_delivers_once(ctx, app, smtp):
    smtp.clear()
    row_id = queue_email("reader@example.com", "Once", "B", kind="test").id
    assert send_outbox_email(row_id) == "sent"
    assert send_outbox_email(row_id) == "sent"  # already done: no second email
    assert len(smtp.messages) == 1


def test_the_email_is_recorded_sent_as_soon_as_the_server_takes_it(ctx, app, smtp,
                                                                   monkeypatch):
    """A goodbye (QUIT) that fails after the server took the message sends nothing again."""
    import smtplib

    from sqlalchemy import event
    from sqlalchemy.orm import Session

    smtp.clear()
    row_id = queue_email("reader@example.com", "Taken", "B", kind="test").id
    db.session.commit()
    steps = []

    def committed(session):
        steps.append("commit")

    def broken_goodbye(self, *exc):
        steps.append("quit")
        self.close()
        raise OSError("connection reset during QUIT")

    monkeypatch.setattr(smtplib.SMTP, "__exit__", broken_goodbye)
    event.listen(Session, "after_commit", committed)
    try:
        assert send_outbox_email(row_id) == "sent"
    finally:
        event.remove(Session, "after_commit", committed)
    assert steps[:2] == ["commit", "quit"]  # recorded before QUIT: a worker dying there resends
    row = db.session.get(OutboxEmail, row_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert send_outbox_email(row_id) == "sent" and len(smtp.messages) == 1


def test_smtp_failure_retries_with_backoff_then_fails_visibly(ctx, app, smtp):
    smtp.clear()
    smtp.handler.fail_with = "451 4.3.0 try again later"
    row = queue_email("reader@example.com", "Retry", "B", kind="test")
    db.session.flush()
    row_id = row.id
    delays = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        before = clock.now()
        result = send_outbox_email(row_id)
        row = db.session.get(OutboxEmail, row_id)
        assert row.attempts == attempt and "451" in row.last_error
        status, due_at = row.status, row.due_at
        if attempt < MAX_ATTEMPTS:
            assert result == "retry"
            delays.append(due_at - before)
            assert send_outbox_email(row_id) == "not-due"  # too early for the next try
            clock.advance(due_at - before + timedelta(seconds=1))
    assert status == "failed" and result == "failed"
    assert delays == sorted(delays) and delays[0] >= timedelta(seconds=30)
    assert smtp.messages == []
    smtp.handler.fail_with = None
    admin = make_user(library="JXSTNU", roles=["portal_admin"])
    retry_email(row_id, admin)
    assert send_outbox_email(row_id) == "sent"
    assert len(smtp.messages) == 1


def test_only_failed_emails_can_be_retried(ctx):
    admin = make_user(library="JXSTNU", roles=["portal_admin"])
    row = queue_email("reader@example.com", "S", "B", kind="test")
    with pytest.raises(RuleViolation):
        retry_email(row.id, admin)


def test_sweeper_enqueues_emails_the_relay_missed(ctx, app, redis_service):
    row_id = queue_email("reader@example.com", "Missed", "B", kind="test").id
    db.session.info.clear()  # as if Redis was down at commit time
    redis_service.clear()
    sweep()
    assert row_id not in queued_ids(app, redis_service)  # the relay's grace period
    clock.advance(timedelta(seconds=10))
    sweep()
    assert row_id in queued_ids(app, redis_service)
    redis_service.clear()  # Redis restarts empty
    sweep()
    assert row_id not in queued_ids(app, redis_service)  # enqueued moments ago: wait
    clock.advance(timedelta(minutes=3))
    sweep()
    assert row_id in queued_ids(app, redis_service)


def test_admin_outbox_page_shows_failures_with_a_retry_button(client):
    from tests.support.web import login

    row = queue_email("reader@example.com", "Broken mail", "B", kind="test")
    row.status, row.attempts, row.last_error = "failed", MAX_ATTEMPTS, "SMTPServerDisconnected"
    admin = make_user(library="JXSTNU", roles=["portal_admin"])
    login(client, admin)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "Broken mail" in page and f"/admin/outbox/{row.id}/retry" in page
