"""RQ queue helpers, the email outbox and its relay, and the due-work sweeper.

An email is a row in ``outbox_emails`` written in the same transaction as the change that
causes it. After the commit its id is enqueued on RQ; the job sends it and marks it sent.
PostgreSQL, not Redis, holds the truth: the sweeper re-enqueues whatever is due, so a Redis
outage or restart delays mail but never loses it. The Message-ID is fixed when the row is
written, so the one possible duplicate (SMTP accepted, worker died before recording it)
carries the same Message-ID.
"""
import contextlib
import logging
import secrets
import smtplib
import threading
import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

import redis
from flask import current_app
from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import event, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from jala import clock
from jala.audit import record_audit
from jala.errors import RuleViolation
from jala.extensions import db
from jala.logs import current_request_id, reset_request_id, set_request_id

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
)
# A row the relay enqueued is left alone this long before the sweeper enqueues it again.
REENQUEUE_AFTER = timedelta(minutes=2)
# The relay gets this long after the commit before the sweeper steps in.
RELAY_GRACE = timedelta(seconds=5)
# How long a worker waits for a failed-over database to record an email the SMTP server took
# (a failover under Patroni takes its leader TTL and a few seconds; a send job may run 120 s)
RECORD_SENT_PATIENCE_SECONDS = 90
_PENDING_KEY = "jala_outbox_ids"


class OutboxEmail(db.Model):
    """An email waiting to be sent, sent, or failed for good (until someone retries it)."""

    __tablename__ = "outbox_emails"

    id = db.Column(db.Integer, primary_key=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    kind = db.Column(db.String(40), nullable=False)
    to_addr = db.Column(db.String(254), nullable=False)
    subject = db.Column(db.String(300), nullable=False)
    body_text = db.Column(db.Text, nullable=False)
    body_html = db.Column(db.Text)
    message_id = db.Column(db.String(200), nullable=False, unique=True)
    status = db.Column(db.String(10), nullable=False, default="pending")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    due_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now, index=True)
    enqueued_at = db.Column(db.DateTime(timezone=True))
    sent_at = db.Column(db.DateTime(timezone=True))
    last_error = db.Column(db.Text)
    object_type = db.Column(db.String(32))
    object_id = db.Column(db.String(64))
    library_id = db.Column(db.Integer)


def redis_connection():
    """Return a Redis client for the configured ``REDIS_URL`` (one per app)."""
    app = current_app._get_current_object()
    conn = app.extensions.get("jala_redis")
    if conn is None:
        conn = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=5
        )
        app.extensions["jala_redis"] = conn
    return conn


def redis_key(*parts):
    """A key of ours in Redis: ``REDIS_KEY_PREFIX:part:part…`` (portals can share a Redis)."""
    return ":".join((current_app.config["REDIS_KEY_PREFIX"], *map(str, parts)))


@contextlib.contextmanager
def advisory_lock(kind, key):
    """Hold PostgreSQL's advisory lock ``(kind, key)`` while the block runs; yields if it was free.

    The lock is held on a connection of its own, so a worker that dies lets go of it.
    """
    connection = db.engine.connect()
    held = False
    try:
        held = connection.execute(text("SELECT pg_try_advisory_lock(:kind, :key)"),
                                  {"kind": kind, "key": key}).scalar()
        connection.commit()
        yield held
    finally:
        try:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:kind, :key)"),
                                   {"kind": kind, "key": key})
                connection.commit()
        finally:
            connection.close()


class TracedJob(Job):
    """An RQ job that runs under the request id of the request that enqueued it, and logs it."""

    def perform(self):
        """Run the job with its request id current; log its start, end and failure."""
        token = set_request_id(self.meta.get("request_id"))
        fields = {"job_id": self.id, "job": self.func_name}
        started = time.perf_counter()
        log.info("job %s started", self.func_name, extra=fields)
        try:
            result = super().perform()
        except Exception:
            log.exception("job %s failed", self.func_name, extra=fields)
            raise
        finally:
            reset_request_id(token)
        log.info("job %s done", self.func_name, extra={
            **fields, "request_id": self.meta.get("request_id") or "-",
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
        return result


def queue():
    """Return the portal's RQ queue."""
    return Queue(current_app.config["RQ_QUEUE"], connection=redis_connection(),
                 job_class=TracedJob)


def _enqueue(work_queue, func, *args, job_timeout):
    """Enqueue ``func(*args)`` carrying the current request id (the request that caused it)."""
    request_id = current_request_id()
    return work_queue.enqueue(func, *args, job_timeout=job_timeout,
                              meta={"request_id": request_id} if request_id else None)


def queue_email(to_addr, subject, body_text, *, kind, body_html=None, related=None,
                library_id=None):
    """Write an email to the outbox in the caller's transaction; it is relayed after commit."""
    # short enough never to be folded onto a second header line
    domain = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "jala.local"
    message_id = f"<{secrets.token_hex(12)}@{domain}>"
    row = OutboxEmail(
        kind=kind,
        to_addr=to_addr,
        subject=" ".join(str(subject).split())[:300],  # a header: no line breaks
        body_text=body_text,
        body_html=body_html,
        message_id=message_id,
        due_at=clock.now(),
        object_type=related[0] if related else None,
        object_id=str(related[1]) if related else None,
        library_id=library_id,
    )
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(_PENDING_KEY, set()).add(row.id)
    return row


_AFTER_COMMIT_KEY = "jala_jobs_after_commit"


def enqueue_after_commit(func, *args, job_timeout=3600):
    """Enqueue ``func(*args)`` once the caller's transaction commits (never if it rolls back).

    If Redis is down then, the job is lost: callers keep their state in PostgreSQL and register
    a sweep task that enqueues again whatever is still waiting.
    """
    db.session.info.setdefault(_AFTER_COMMIT_KEY, []).append((func, args, job_timeout))


@event.listens_for(Session, "after_commit")
def _relay_after_commit(session):
    if session.in_nested_transaction():
        return  # a SAVEPOINT was released: the rows are not visible to workers yet
    ids = session.info.pop(_PENDING_KEY, None)
    if ids:
        relay(ids)
    jobs = session.info.pop(_AFTER_COMMIT_KEY, None)
    if jobs:
        try:
            q = queue()
            for func, args, timeout in jobs:
                _enqueue(q, func, *args, job_timeout=timeout)
        except redis.RedisError as exc:
            log.warning("job enqueue deferred to the sweeper: %s", exc)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    if session.in_nested_transaction():
        return  # only a SAVEPOINT rolled back; a job for a vanished row finds nothing to do
    session.info.pop(_PENDING_KEY, None)
    session.info.pop(_AFTER_COMMIT_KEY, None)


def relay(outbox_ids):
    """Enqueue send jobs for committed outbox rows; if Redis is down the sweeper does it later."""
    try:
        q = queue()
        for outbox_id in sorted(outbox_ids):
            _enqueue(q, send_outbox_email, outbox_id, job_timeout=120)
    except redis.RedisError as exc:
        log.warning("outbox relay deferred to the sweeper: %s", exc)


def _build_message(row, sender):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = row.to_addr
    msg["Subject"] = row.subject
    msg["Message-ID"] = row.message_id
    msg["Date"] = format_datetime(row.created_at.astimezone(clock.SHANGHAI))
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    return msg


def smtp_send(message, accepted=None):
    """Hand one message to the configured SMTP server.

    ``accepted()`` runs as soon as the server has taken it, before QUIT, so the caller records
    that at once.
    """
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        raise RuntimeError("MAIL_SERVER is not configured")
    smtp_class = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"]) as smtp:
        if cfg["MAIL_USE_TLS"]:
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
        if accepted is not None:
            accepted()


def run_job(fn):
    """Run a job body in its own transaction: commit on success, roll back on error."""
    try:
        result = fn()
        db.session.commit()
        return result
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()


def send_outbox_email(outbox_id):
    """RQ job: send one outbox email unless it is already sent (idempotent)."""
    return run_job(lambda: _send(outbox_id))


def _send(outbox_id):
    row = db.session.execute(
        select(OutboxEmail).where(OutboxEmail.id == outbox_id).with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if row is None:
        return "busy-or-missing"
    if row.status != "pending":
        return row.status
    if row.due_at > clock.now() + timedelta(seconds=1):
        return "not-due"
    try:
        message = _build_message(row, current_app.config["MAIL_DEFAULT_SENDER"])
    except ValueError as exc:  # a header Python refuses: retrying cannot help
        row.attempts += 1
        row.status = "failed"
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        log.warning("email %s cannot be built: %s", row.id, row.last_error)
        return "failed"
    def mark_sent():
        # committed the moment the server has the message, before QUIT: a worker dying now
        # no longer sends it again (at-least-once, with this window kept to one commit)
        row.attempts += 1
        row.status = "sent"
        row.sent_at = sent_at = clock.now()
        row.last_error = None
        try:
            db.session.commit()
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            db.session.rollback()
            _record_sent_when_back(outbox_id, sent_at)

    try:
        smtp_send(message, accepted=mark_sent)
    except (OSError, smtplib.SMTPException, RuntimeError) as exc:
        if row.status == "sent":  # only the goodbye failed: the message was taken
            log.warning("email %s sent; closing the SMTP connection failed: %s", row.id, exc)
            return "sent"
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        row.enqueued_at = None
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
        else:
            row.due_at = clock.now() + RETRY_DELAYS[min(row.attempts, len(RETRY_DELAYS)) - 1]
        log.warning("email %s attempt %s failed: %s", row.id, row.attempts, row.last_error)
        return "retry" if row.status == "pending" else "failed"
    return "sent"


def _record_sent_when_back(outbox_id, sent_at):
    """Record an email the SMTP server took as sent, once the database answers again.

    The primary went away between the server's "250 OK" and our commit (a crash, a failover):
    left pending, the email would be swept up and sent a second time.
    """
    deadline = time.monotonic() + RECORD_SENT_PATIENCE_SECONDS
    while True:
        try:
            with db.engine.begin() as connection:
                connection.execute(
                    update(OutboxEmail)
                    .where(OutboxEmail.id == outbox_id, OutboxEmail.status == "pending")
                    .values(status="sent", sent_at=sent_at, last_error=None,
                            attempts=OutboxEmail.attempts + 1))
            log.warning("email %s sent; recorded after the database came back", outbox_id)
            return
        except DBAPIError as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("email %s sent; waiting for the database to record it: %s",
                        outbox_id, exc.orig)
            time.sleep(0.5)


def retry_email(outbox_id, actor):
    """Put a failed email back in the queue (the retry button); writes the audit entry."""
    row = db.session.get(OutboxEmail, outbox_id)
    if row is None:
        raise RuleViolation("No such email.", status=404)
    if row.status != "failed":
        raise RuleViolation("Only a failed email can be retried.", status=409)
    row.status = "pending"
    row.attempts = 0
    row.due_at = clock.now()
    row.enqueued_at = None
    db.session.info.setdefault(_PENDING_KEY, set()).add(row.id)
    record_audit(actor, "email.retry", "outbox_email", row.id, library_id=row.library_id)
    db.session.flush()
    return row


# --- the sweeper -------------------------------------------------------------------------

_sweep_tasks = []


def sweep_task(fn):
    """Register ``fn()`` to run on every sweep (each domain registers its due-work here)."""
    _sweep_tasks.append(fn)
    return fn


@sweep_task
def enqueue_due_emails():
    """Enqueue pending emails that are due and not recently enqueued."""
    now = clock.now()
    rows = db.session.execute(
        select(OutboxEmail)
        .where(
            OutboxEmail.status == "pending",
            OutboxEmail.due_at <= now - RELAY_GRACE,
            or_(OutboxEmail.enqueued_at.is_(None), OutboxEmail.enqueued_at < now - REENQUEUE_AFTER),
        )
        .order_by(OutboxEmail.due_at)
        .limit(500)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    # enqueue after the commit (through the relay), never while these rows are still locked:
    # a worker would skip a locked row and it would wait for the next re-enqueue
    pending = db.session.info.setdefault(_PENDING_KEY, set())
    for row in rows:
        row.enqueued_at = now
        pending.add(row.id)
    return len(rows)


def sweep():
    """Run every registered due-work task, each in its own transaction."""
    done = {}
    for task in list(_sweep_tasks):
        try:
            done[task.__name__] = run_job(task)
        except Exception as exc:  # one failing task must not stop the others
            log.exception("sweep task %s failed", task.__name__)
            done[task.__name__] = f"error: {exc}"
    return done


def run_worker(app, burst=False, sweep_interval=None):
    """Run an RQ worker with the sweeper beside it until stopped (``jala worker``)."""
    interval = sweep_interval or app.config["SWEEP_INTERVAL_SECONDS"]
    stop = threading.Event()

    def sweeper_loop():
        while not stop.is_set():
            with app.app_context():
                try:
                    lock = redis_connection().set(redis_key("sweeper"), "1", nx=True,
                                                  ex=interval)
                    if lock:
                        sweep()
                except redis.RedisError as exc:
                    log.warning("sweeper waiting for Redis: %s", exc)
            stop.wait(interval)

    with app.app_context():
        if not burst:
            threading.Thread(target=sweeper_loop, name="jala-sweeper", daemon=True).start()
        # no socket timeout here: the worker blocks on the queue for minutes at a time
        connection = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2,
                                          health_check_interval=30)
        while True:
            try:
                work_queue = Queue(app.config["RQ_QUEUE"], connection=connection,
                                   job_class=TracedJob)
                worker = SimpleWorker([work_queue], connection=connection, job_class=TracedJob)
                worker.work(burst=burst, with_scheduler=False, logging_level="WARNING")
                break
            except redis.ConnectionError as exc:
                if burst:
                    raise
                log.warning("worker waiting for Redis: %s", exc)
                time.sleep(2)
        stop.set()
