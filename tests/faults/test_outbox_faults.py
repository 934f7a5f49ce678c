"""Fault tests of the email outbox with a real worker process, a private Redis and SMTP server.

Each test commits real rows (other processes must see them), runs `jala worker` as a child
process against a redis-server of its own, and checks that every email arrives exactly once.
"""
import signal
import time

import pytest

from jala.extensions import db
from jala.jobs import OutboxEmail, queue_email
from tests.support.workers import stall_first_message, wait_for

pytestmark = pytest.mark.timeout(90)


def commit_email(app, to_addr):
    with app.app_context():
        row_id = queue_email(to_addr, "Fault test", "Body", kind="test").id
        db.session.commit()
        return row_id


def status_of(app, row_id):
    with app.app_context():
        row = db.session.get(OutboxEmail, row_id)
        return row.status, row.attempts


def delivered_to(smtp, address):
    return [m for m in smtp.messages if m["To"] == address]


def test_redis_down_at_commit_the_email_goes_out_once_redis_is_back(app, faults):
    faults.redis.stop()
    row_id = commit_email(app, "redis-down@example.com")  # the relay fails quietly
    assert status_of(app, row_id) == ("pending", 0)
    faults.redis.start()
    faults.start_worker()
    wait_for(lambda: status_of(app, row_id)[0] == "sent", what="the email to be sent")
    time.sleep(1.5)  # give a duplicate the chance to show up
    assert len(delivered_to(faults.smtp, "redis-down@example.com")) == 1


def test_redis_restarted_empty_pending_email_still_goes_out(app, faults):
    row_id = commit_email(app, "redis-empty@example.com")  # relayed to Redis...
    faults.redis.stop()  # ...which then restarts with nothing in it
    faults.redis.start()
    faults.start_worker()
    wait_for(lambda: status_of(app, row_id)[0] == "sent", what="the email to be sent")
    assert len(delivered_to(faults.smtp, "redis-empty@example.com")) == 1


def test_worker_killed_while_sending_the_email_goes_out_once_on_retry(app, faults):
    in_data, _calls = stall_first_message(faults.smtp)
    worker = faults.start_worker()
    row_id = commit_email(app, "killed@example.com")
    assert in_data.wait(30), "the worker never reached the SMTP server"
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert status_of(app, row_id) == ("pending", 0)
    faults.start_worker()
    wait_for(lambda: status_of(app, row_id)[0] == "sent", what="the retried email")
    time.sleep(1.5)
    assert len(delivered_to(faults.smtp, "killed@example.com")) == 1
