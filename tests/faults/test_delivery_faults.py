"""Fault tests of document delivery: the emails and timers survive Redis, SMTP and worker faults.

As in ``test_outbox_faults``, every row is committed for real (a worker process must see it),
the worker is `python -m jala worker` against a private redis-server, and each email is checked
to arrive exactly once, by address and Message-ID. Time is never moved in the worker: where a
test needs the next retry or a timer now, it sets ``due_at`` or ``respond_by`` in the database.
The requests, their records and emails are deleted afterwards: other tests count the requests
of a library (the statistics page), and may run after these.
"""
import secrets
import signal
import time
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

import pyotp
import pytest
import redis
from rq import Queue
from sqlalchemy import delete, select, update

from jala import clock
from jala.accounts.models import User
from jala.audit import AuditEntry
from jala.catalog.models import Record
from jala.delivery import services as delivery
from jala.delivery.models import DeliveryEvent, DeliveryRequest
from jala.extensions import db
from jala.jobs import MAX_ATTEMPTS, RETRY_DELAYS, OutboxEmail
from jala.settings import get_setting
from tests.support.factories import PASSWORD, add_record, make_user
from tests.support.web import csrf_token, post_form
from tests.support.workers import stall_first_message, wait_for

pytestmark = pytest.mark.timeout(90)


# --- committed test data ------------------------------------------------------------------------

@dataclass
class Staff:
    id: int
    email: str
    code: str
    totp_secret: str


@dataclass
class Case:
    """A committed request of a JXUFE reader for a book held by ``holders``."""

    tag: str
    request_id: int
    record_id: int
    reader_email: str
    rota: list
    staff: dict = field(default_factory=dict)  # library id -> Staff

    def staff_at(self, position=0):
        return self.staff[self.rota[position]]


def new_case(app, name, holders):
    tag = f"{name}-{secrets.token_hex(4)}"
    with app.test_request_context("/?lang=en"):
        record = add_record(f"fault-{tag}", list(holders), page_count=300,
                            title=f"Fault delivery {tag}")
        reader = make_user(library="JXUFE", email=f"reader-{tag}@example.edu.cn")
        staff = {}
        for code in holders:
            user = make_user(library=code, roles=("librarian",),
                             email=f"{code.lower()}-{tag}@example.edu.cn")
            staff[user.home_library_id] = Staff(user.id, user.email, code, user.totp_secret)
        req = delivery.submit_request(reader, kind="book_part", title=record.title,
                                      record_id=record.id, pages="1-10")
        case = Case(tag, req.id, record.id, reader.email, list(req.rota), staff)
        db.session.commit()
    return case


@pytest.fixture
def cases(app, faults):
    """``cases(name, holders)`` commits a new case; all of them are deleted after the test."""
    made = []

    def new(name, holders):
        made.append(new_case(app, name, holders))
        return made[-1]

    yield new
    faults.stop_workers()  # nothing may act on the rows while they go
    request_ids = [case.request_id for case in made]
    with app.app_context():
        db.session.execute(delete(OutboxEmail).where(
            OutboxEmail.object_type == "delivery_request",
            OutboxEmail.object_id.in_([str(i) for i in request_ids])))
        db.session.execute(delete(DeliveryEvent).where(DeliveryEvent.request_id.in_(request_ids)))
        db.session.execute(delete(DeliveryRequest).where(DeliveryRequest.id.in_(request_ids)))
        db.session.execute(delete(Record).where(Record.id.in_([c.record_id for c in made])))
        db.session.commit()


def fulfil(app, case, url):
    """The librarian of the request's first library sends it as a URL (committed)."""
    with app.test_request_context("/?lang=en"):
        staff = db.session.get(User, case.staff_at(0).id)
        delivery.fulfil_request(staff, case.request_id, url=url)
        db.session.commit()


def make_overdue(app, request_id):
    with app.app_context():
        db.session.execute(update(DeliveryRequest).where(DeliveryRequest.id == request_id)
                           .values(respond_by=clock.now() - timedelta(minutes=1)))
        db.session.commit()


def make_due(app, email_id, attempts):
    """Bring the next retry forward (past the sweeper's grace period after a commit)."""
    with app.app_context():
        changed = db.session.execute(
            update(OutboxEmail).where(OutboxEmail.id == email_id,
                                      OutboxEmail.attempts == attempts,
                                      OutboxEmail.status == "pending")
            .values(due_at=clock.now() - timedelta(seconds=10))).rowcount
        db.session.commit()
    assert changed == 1


# --- reading what happened ----------------------------------------------------------------------

def request_state(app, request_id):
    with app.app_context():
        req = db.session.get(DeliveryRequest, request_id)
        return SimpleNamespace(status=req.status, library_id=req.library_id,
                               rota_position=req.rota_position, routed_at=req.routed_at,
                               respond_by=req.respond_by, fulfilled_by_id=req.fulfilled_by_id,
                               events=[e.kind for e in req.events])


def _snapshot(row):
    return SimpleNamespace(id=row.id, kind=row.kind, to_addr=row.to_addr, status=row.status,
                           attempts=row.attempts, message_id=row.message_id,
                           due_at=row.due_at, enqueued_at=row.enqueued_at,
                           last_error=row.last_error, library_id=row.library_id)


def emails_about(app, request_id):
    """The outbox rows written for a delivery request, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(OutboxEmail).where(OutboxEmail.object_type == "delivery_request",
                                      OutboxEmail.object_id == str(request_id))
            .order_by(OutboxEmail.id)).scalars().all()
        return [_snapshot(row) for row in rows]


def email_row(app, email_id):
    with app.app_context():
        return _snapshot(db.session.get(OutboxEmail, email_id))


def delivered(smtp, address, message_id=None):
    return [m for m in smtp.messages if m["To"] == address
            and (message_id is None or m["Message-ID"].strip() == message_id)]


def wait_until_sent(app, faults, email_id, what):
    wait_for(lambda: email_row(app, email_id).status == "sent", what=what,
             diagnose=faults.worker_logs)


def staff_client(app, staff):
    """A test client logged in as ``staff`` (password, then the authenticator code)."""
    client = app.test_client()
    first = post_form(client, "/login", {"email": staff.email, "password": PASSWORD},
                      token_from="/login")
    assert first.status_code == 303 and first.headers["Location"].endswith("/login/code")
    second = post_form(client, "/login/code", {"code": pyotp.TOTP(staff.totp_secret).now()},
                       token_from="/login/code")
    assert second.status_code == 303, second.get_data(as_text=True)
    return client


# --- the faults ---------------------------------------------------------------------------------

def test_redis_down_when_a_librarian_fulfils_the_reader_gets_one_email_later(app, faults, cases):
    case = cases("redis-down", ["NCU"])
    staff = case.staff_at(0)
    client = staff_client(app, staff)
    token = csrf_token(client, f"/libraries/{staff.code}/delivery")
    url = f"https://oa.example.org/{case.tag}.pdf"

    faults.redis.stop()
    response = client.post(f"/delivery/requests/{case.request_id}/fulfil",
                           data={"url": url, "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)

    state = request_state(app, case.request_id)  # committed, seen from a fresh session
    assert state.status == "fulfilled" and state.fulfilled_by_id == staff.id
    [email] = emails_about(app, case.request_id)
    assert (email.kind, email.to_addr, email.status, email.attempts) == (
        "delivery.fulfilled", case.reader_email, "pending", 0)

    faults.redis.start()
    faults.start_worker()
    wait_until_sent(app, faults, email.id, "the fulfilment email")
    time.sleep(1.5)  # give a duplicate the chance to show up
    [message] = delivered(faults.smtp, case.reader_email)
    assert message["Message-ID"].strip() == email.message_id
    assert url in message.get_body(preferencelist=("plain",)).get_content()


def test_smtp_down_backs_off_fails_visibly_and_the_retry_button_sends_once(app, faults, cases):
    case = cases("smtp-down", ["NCU"])
    staff = case.staff_at(0)
    faults.smtp_down()
    faults.start_worker()
    fulfil(app, case, f"https://oa.example.org/{case.tag}.pdf")
    [email] = emails_about(app, case.request_id)
    assert email.library_id == case.rota[0]

    for attempt in range(1, MAX_ATTEMPTS + 1):
        wait_for(lambda n=attempt: email_row(app, email.id).attempts >= n,
                 what=f"attempt {attempt}", diagnose=faults.worker_logs)
        row = email_row(app, email.id)
        assert row.attempts == attempt and "ConnectionRefusedError" in row.last_error
        if attempt < MAX_ATTEMPTS:
            assert row.status == "pending"
            ahead, delay = row.due_at - clock.now(), RETRY_DELAYS[attempt - 1]
            assert delay - timedelta(seconds=5) < ahead <= delay, (attempt, ahead)
            make_due(app, email.id, attempt)
    assert row.status == "failed"
    time.sleep(2)  # two more sweeps: a failed email is left alone
    assert (email_row(app, email.id).status, email_row(app, email.id).attempts) == (
        "failed", MAX_ATTEMPTS)

    client = staff_client(app, staff)
    queue_page = f"/libraries/{staff.code}/delivery"
    retry_path = f"/libraries/{staff.code}/delivery/emails/{email.id}/retry"
    page = client.get(queue_page)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert case.reader_email in html and retry_path in html and "ConnectionRefusedError" in html

    smtp = faults.smtp_up()
    response = client.post(retry_path, data={"csrf_token": csrf_token(client, queue_page)})
    assert response.status_code == 303 and response.headers["Location"].endswith(queue_page)
    wait_until_sent(app, faults, email.id, "the retried email")
    time.sleep(1.5)
    [message] = delivered(smtp, case.reader_email)
    assert message["Message-ID"].strip() == email.message_id
    assert email_row(app, email.id).attempts == 1  # the retry starts the count again
    with app.app_context():
        assert db.session.execute(select(AuditEntry.actor_id).where(
            AuditEntry.action == "email.retry",
            AuditEntry.object_id == str(email.id))).scalars().all() == [staff.id]
    assert retry_path not in client.get(queue_page).get_data(as_text=True)


def test_worker_killed_before_it_sends_the_fulfilment_email_goes_out_once(app, faults, cases):
    case = cases("killed", ["NCU"])
    in_data, calls = stall_first_message(faults.smtp)
    worker = faults.start_worker()
    fulfil(app, case, f"https://oa.example.org/{case.tag}.pdf")
    assert in_data.wait(30), "the worker never reached the SMTP server\n" + faults.worker_logs()
    worker.send_signal(signal.SIGKILL)
    worker.wait()

    assert request_state(app, case.request_id).status == "fulfilled"
    [email] = emails_about(app, case.request_id)
    assert (email.status, email.attempts) == ("pending", 0)
    faults.start_worker()
    wait_until_sent(app, faults, email.id, "the email, sent by the new worker")
    time.sleep(1.5)
    assert [m["Message-ID"].strip() for m in delivered(faults.smtp, case.reader_email)] == [
        email.message_id]
    assert calls["n"] == 2


def test_redis_restarted_empty_the_email_and_the_timer_still_happen(app, faults, cases):
    sent = cases("restart-email", ["NCU"])
    fulfil(app, sent, f"https://oa.example.org/{sent.tag}.pdf")
    [email] = emails_about(app, sent.request_id)
    waiting = cases("restart-timer", ["NCU", "ECJTU"])
    make_overdue(app, waiting.request_id)
    first, second = waiting.rota

    def queued():
        connection = redis.Redis.from_url(faults.redis.url)
        try:
            return [job.args[0] for job in Queue(faults.queue, connection=connection).jobs]
        finally:
            connection.close()

    assert queued() == [email.id]  # relayed...
    faults.redis.stop()
    faults.redis.start()  # ...and lost: the new Redis is empty
    assert queued() == []
    faults.start_worker()

    wait_until_sent(app, faults, email.id, "the fulfilment email")
    wait_for(lambda: request_state(app, waiting.request_id).library_id == second,
             what="the overdue request to move on", diagnose=faults.worker_logs)
    state = request_state(app, waiting.request_id)
    assert (state.status, state.rota_position) == ("pending", 1)
    assert state.events[-2:] == ["timed_out", "routed"]
    with app.app_context():
        hours = get_setting("delivery.response_hours")
    assert state.respond_by == state.routed_at + timedelta(hours=hours)
    assert state.routed_at > clock.now() - timedelta(seconds=30)
    assert first != second and emails_about(app, waiting.request_id) == []

    make_overdue(app, waiting.request_id)  # the second library does not answer either
    wait_for(lambda: request_state(app, waiting.request_id).status == "unfilled",
             what="the request to end unfilled", diagnose=faults.worker_logs)
    [unfilled] = emails_about(app, waiting.request_id)
    assert (unfilled.kind, unfilled.to_addr) == ("delivery.unfilled", waiting.reader_email)
    wait_until_sent(app, faults, unfilled.id, "the 'unfilled' email")
    time.sleep(1.5)
    assert request_state(app, waiting.request_id).events[-2:] == ["timed_out", "unfilled"]
    [message] = delivered(faults.smtp, sent.reader_email)
    assert message["Message-ID"].strip() == email.message_id
    [message] = delivered(faults.smtp, waiting.reader_email)
    assert message["Message-ID"].strip() == unfilled.message_id
