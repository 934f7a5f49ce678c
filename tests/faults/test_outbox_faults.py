"""Fault tests of the email outbox with a real worker process, a private Redis and SMTP server.

Each test commits real rows (other processes must see them), runs `jala worker` as a child
process against a redis-server of its own, and checks that every email arrives exactly once.
"""
import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from jala.embedded.redis_server import free_port, start_redis_server, stop_redis_server
from jala.extensions import db
from jala.jobs import OutboxEmail, queue_email
from tests.services import CatchingSMTP

pytestmark = pytest.mark.timeout(90)


def wait_for(predicate, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class PrivateRedis:
    def __init__(self, directory):
        self.directory = directory
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc, self.url = start_redis_server(self.directory, port=self.port, persist=False)
        return self

    def stop(self):
        stop_redis_server(self.proc)


@pytest.fixture
def faults(app, tmp_path):
    redis_server = PrivateRedis(tmp_path / "redis").start()
    smtp = CatchingSMTP()
    queue_name = f"faults-{os.getpid()}-{time.monotonic_ns()}"
    saved = {k: app.config[k] for k in ("REDIS_URL", "MAIL_PORT", "RQ_QUEUE")}
    app.config.update(REDIS_URL=redis_server.url, MAIL_PORT=smtp.port, RQ_QUEUE=queue_name)
    app.extensions.pop("jala_redis", None)
    workers = []

    def start_worker():
        env = dict(os.environ, DATABASE_URL=app.config["DATABASE_URL"],
                   REDIS_URL=redis_server.url, MAIL_SERVER="127.0.0.1",
                   MAIL_PORT=str(smtp.port), RQ_QUEUE=queue_name, SWEEP_INTERVAL_SECONDS="1",
                   JALA_INSTANCE_PATH=str(tmp_path / "instance"),
                   SECRET_KEY=app.config["SECRET_KEY"])
        proc = subprocess.Popen([sys.executable, "-m", "jala", "worker"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        workers.append(proc)
        return proc

    class Env:
        pass

    env = Env()
    env.redis, env.smtp, env.start_worker = redis_server, smtp, start_worker
    yield env
    for proc in workers:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    smtp.stop()
    if redis_server.proc.poll() is None:
        redis_server.stop()
    app.config.update(saved)
    app.extensions.pop("jala_redis", None)


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
    in_data = threading.Event()
    original = faults.smtp.handler.handle_DATA
    calls = {"n": 0}

    async def slow_first_time(server, session, envelope):
        calls["n"] += 1
        if calls["n"] == 1:
            in_data.set()
            await asyncio.sleep(3)
            return "451 4.4.2 connection lost"  # never accepted
        return await original(server, session, envelope)

    faults.smtp.handler.handle_DATA = slow_first_time
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
