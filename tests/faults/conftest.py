"""The fault-test rig: a private redis-server, a catching SMTP server and real worker processes.

Each test gets its own Redis (which it may stop, restart or empty), an SMTP server on a fixed
port (which it may take down and bring back), and ``start_worker()`` for `python -m jala worker`
child processes sweeping every second (``stop_workers()`` kills them). The worker's output goes
to a log file in the test's temporary directory; ``worker_logs()`` returns its tail for failure
messages.
"""
import os
import subprocess
import sys
import time

import pytest

from jala.embedded.redis_server import free_port, start_redis_server, stop_redis_server
from tests.support.services import CatchingSMTP


def wait_for(predicate, timeout=30, what="condition", diagnose=None):
    """Poll ``predicate`` every 0.1 s until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    detail = f"\n{diagnose()}" if diagnose else ""
    raise AssertionError(f"timed out waiting for {what}{detail}")


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
    smtp_port = free_port()
    queue_name = f"faults-{os.getpid()}-{time.monotonic_ns()}"
    saved = {k: app.config[k] for k in ("REDIS_URL", "MAIL_PORT", "RQ_QUEUE")}
    app.config.update(REDIS_URL=redis_server.url, MAIL_PORT=smtp_port, RQ_QUEUE=queue_name)
    app.extensions.pop("jala_redis", None)
    workers = []

    class Env:
        redis = redis_server
        smtp = CatchingSMTP(port=smtp_port)
        smtp_running = True
        queue = queue_name

        def start_worker(self):
            env = dict(os.environ, DATABASE_URL=app.config["DATABASE_URL"],
                       REDIS_URL=redis_server.url, MAIL_SERVER="127.0.0.1",
                       MAIL_PORT=str(smtp_port), RQ_QUEUE=queue_name,
                       SWEEP_INTERVAL_SECONDS="1",
                       JALA_INSTANCE_PATH=str(tmp_path / "instance"),
                       SECRET_KEY=app.config["SECRET_KEY"])
            log_path = tmp_path / f"worker-{len(workers) + 1}.log"
            with open(log_path, "wb") as log:
                proc = subprocess.Popen([sys.executable, "-m", "jala", "worker"], env=env,
                                        stdout=log, stderr=subprocess.STDOUT)
            workers.append((proc, log_path))
            return proc

        def worker_logs(self, lines=40):
            out = []
            for proc, log_path in workers:
                tail = log_path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {log_path.name} (exit {proc.poll()}) ---")
                out.extend(tail)
            return "\n".join(out)

        def stop_workers(self):
            for proc, _log in workers:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

        def smtp_down(self):
            """Stop the SMTP server: connections to its port are refused."""
            self.smtp.stop()
            self.smtp_running = False

        def smtp_up(self):
            """A fresh SMTP server on the same port (with an empty mailbox)."""
            self.smtp = CatchingSMTP(port=smtp_port)
            self.smtp_running = True
            return self.smtp

    env = Env()
    yield env
    env.stop_workers()
    if env.smtp_running:
        env.smtp.stop()
    if redis_server.proc.poll() is None:
        redis_server.stop()
    app.config.update(saved)
    app.extensions.pop("jala_redis", None)
