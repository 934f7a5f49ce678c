"""The fault-test rig: a private redis-server, a catching SMTP server and real worker processes.

``FaultRig`` points the app at a Redis of its own (which a test may stop, restart or empty) and
an SMTP server on a fixed port (which it may take down and bring back), and ``start_worker()``
runs `python -m jala worker` child processes sweeping every second (``stop_workers()`` kills
them). The worker's output goes to a log file in the test's temporary directory;
``worker_logs()`` returns its tail for failure messages. ``close()`` puts the app back.
"""
import asyncio
import os
import subprocess
import sys
import threading
import time

from jala.embedded.redis_server import free_port
from tests.support.services import CatchingSMTP, PrivateRedis


def wait_for(predicate, timeout=30, what="condition", diagnose=None, ignoring=()):
    """Poll ``predicate`` every 0.1 s until it is true; fail after ``timeout`` seconds.

    An exception of the ``ignoring`` classes counts as not yet (a server still starting).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except ignoring:
            pass
        time.sleep(0.1)
    detail = f"\n{diagnose()}" if diagnose else ""
    raise AssertionError(f"timed out waiting for {what}{detail}")


def stall_first_message(smtp):
    """Make ``smtp`` hold the first message it is sent for 3 s and then refuse it (451), as when
    the connection is lost in the middle of DATA; the messages after it go through.

    Returns ``(in_data, calls)``: an Event set once the first message is in DATA, and a dict whose
    ``"n"`` counts the messages the server was sent.
    """
    in_data = threading.Event()
    original = smtp.handler.handle_DATA
    calls = {"n": 0}

    async def stall_first_time(server, session, envelope):
        calls["n"] += 1
        if calls["n"] == 1:
            in_data.set()
            await asyncio.sleep(3)
            return "451 4.4.2 connection lost"  # never accepted
        return await original(server, session, envelope)

    smtp.handler.handle_DATA = stall_first_time
    return in_data, calls


class FaultRig:
    """The app on a private Redis, SMTP on a fixed port, and worker processes on demand."""

    def __init__(self, app, tmp_path):
        self.app, self.tmp_path = app, tmp_path
        self.redis = PrivateRedis(tmp_path / "redis").start()
        self.smtp_port = free_port()
        self.queue = f"faults-{os.getpid()}-{time.monotonic_ns()}"
        self._saved = {k: app.config[k] for k in ("REDIS_URL", "MAIL_PORT", "RQ_QUEUE")}
        app.config.update(REDIS_URL=self.redis.url, MAIL_PORT=self.smtp_port,
                          RQ_QUEUE=self.queue)
        app.extensions.pop("jala_redis", None)
        self.smtp = CatchingSMTP(port=self.smtp_port)
        self.smtp_running = True
        self.workers = []

    def start_worker(self):
        env = dict(os.environ, DATABASE_URL=self.app.config["DATABASE_URL"],
                   REDIS_URL=self.redis.url, MAIL_SERVER="127.0.0.1",
                   MAIL_PORT=str(self.smtp_port), RQ_QUEUE=self.queue,
                   SWEEP_INTERVAL_SECONDS="1",
                   JALA_INSTANCE_PATH=str(self.tmp_path / "instance"),
                   SECRET_KEY=self.app.config["SECRET_KEY"])
        log_path = self.tmp_path / f"worker-{len(self.workers) + 1}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "jala", "worker"], env=env,
                                    stdout=log, stderr=subprocess.STDOUT)
        self.workers.append((proc, log_path))
        return proc

    def worker_logs(self, lines=40):
        out = []
        for proc, log_path in self.workers:
            tail = log_path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {log_path.name} (exit {proc.poll()}) ---")
            out.extend(tail)
        return "\n".join(out)

    def stop_workers(self):
        for proc, _log in self.workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def smtp_down(self):
        """Stop the SMTP server: connections to its port are refused."""
        self.smtp.stop()
        self.smtp_running = False

    def smtp_up(self):
        """A fresh SMTP server on the same port (with an empty mailbox)."""
        self.smtp = CatchingSMTP(port=self.smtp_port)
        self.smtp_running = True
        return self.smtp

    def close(self):
        """Stop the workers and servers; the app talks to the run's Redis and SMTP again."""
        self.stop_workers()
        if self.smtp_running:
            self.smtp.stop()
        if self.redis.proc.poll() is None:
            self.redis.stop()
        self.app.config.update(self._saved)
        self.app.extensions.pop("jala_redis", None)
