"""Readers and writers driving the portal through a failover, and what they saw.

``PortalLoad`` runs reader threads (searches) and writer threads (sign-ups: a user row and its
confirmation email in the outbox, in one transaction) against the app, each through a Flask
test client of its own, and notes every request: when it started and ended and whether it
succeeded. A sign-up answered with the redirect was committed (the portal commits before it
answers); one answered otherwise is in doubt and is not counted as committed. ``audit()``
then reads the database and the SMTP sink: committed sign-ups missing after the failover
(lost), outbox emails not yet received, and Message-IDs received more than once (doubled).
"""
import collections
import itertools
import secrets
import statistics
import threading
import time
from dataclasses import dataclass

import psycopg

from jala.jobs import REENQUEUE_AFTER
from tests.support.web import csrf_token

QUERIES = ("history", "economics", "江西", "library", "water", "chemistry", "law", "poetry")


@dataclass
class Request:
    kind: str  # "read" or "write"
    started: float
    ended: float
    ok: bool
    email: str = None


class PortalLoad:
    """Reader and writer threads against ``app``; ``requests`` is what they saw."""

    def __init__(self, app, readers=2, writers=2, pause_after_failure=0.1):
        self.app = app
        self.tag = secrets.token_hex(4)
        self.readers, self.writers = readers, writers
        self.pause_after_failure = pause_after_failure
        self.requests = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self._numbers = itertools.count(1)

    def _note(self, kind, started, ok, email=None):
        with self._lock:
            self.requests.append(Request(kind, started, time.monotonic(), ok, email))
        if not ok:
            time.sleep(self.pause_after_failure)  # a client retrying, not a tight loop

    def _read(self, seed):
        client = self.app.test_client()
        for query in itertools.cycle(QUERIES[seed:] + QUERIES[:seed]):
            if self._stop.is_set():
                return
            started = time.monotonic()
            try:
                ok = client.get(f"/search?q={query}").status_code == 200
            except Exception:  # the test client raises what a server answers with a 500
                ok = False
            self._note("read", started, ok)

    def _write(self, seed):
        client = self.app.test_client()
        token = csrf_token(client, "/register")
        while not self._stop.is_set():
            email = f"ha-{self.tag}-{next(self._numbers)}@example.edu.cn"
            started = time.monotonic()
            try:
                response = client.post("/register", data={
                    "csrf_token": token, "kind": "public", "display_name": f"HA {seed}",
                    "email": email, "password": f"failover-{secrets.token_hex(6)}",
                    "library": ""})
                ok = response.status_code == 303
            except Exception:
                ok = False
            self._note("write", started, ok, email)

    def start(self):
        for i in range(self.readers):
            self._threads.append(threading.Thread(target=self._read, args=(i,), daemon=True))
        for i in range(self.writers):
            self._threads.append(threading.Thread(target=self._write, args=(i,), daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def snapshot(self):
        with self._lock:
            return list(self.requests)

    def served_since(self, moment, kind):
        """Whether a ``kind`` request that started after ``moment`` succeeded."""
        return any(r.kind == kind and r.ok and r.started >= moment for r in self.snapshot())

    def committed_emails(self):
        return [r.email for r in self.snapshot() if r.kind == "write" and r.ok]

    def in_doubt_emails(self):
        return [r.email for r in self.snapshot() if r.kind == "write" and not r.ok]

    @staticmethod
    def _outage(done, kind, crash_at):
        """``(down_from, back_at)``: the last success before the first failure (``crash_at`` at
        the earliest) and the first success after the last failure; None without a failure."""
        failed = [r for r in done if r.kind == kind and not r.ok and r.ended >= crash_at]
        if not failed:
            return None
        first_failure = min(r.started for r in failed)
        last_failure = max(r.ended for r in failed)
        served = [r.ended for r in done if r.kind == kind and r.ok]
        down_from = max([crash_at] + [t for t in served if t <= first_failure])
        return down_from, min((t for t in served if t > last_failure), default=None)

    def window(self, crash_at, since=None, until=None):
        """What the failover at ``crash_at`` cost: the seconds each kind of request went
        unserved, requests failed, and the rate of successful requests before and after (the
        requests that started within ``since``…``until``, by default all)."""
        done = [r for r in self.snapshot() if (since is None or r.started >= since)
                and (until is None or r.started < until)]
        report, recovered = {}, crash_at
        for kind in ("read", "write"):
            outage = self._outage(done, kind, crash_at)
            if outage is None:
                gap = 0.0
            elif outage[1] is None:
                gap, recovered = None, None
            else:
                gap = round(outage[1] - outage[0], 2)
                recovered = recovered and max(recovered, outage[1])
            report[f"{kind}s_unavailable_s"] = gap
            report[f"{kind}s_failed"] = sum(1 for r in done if r.kind == kind and not r.ok)
        start = min((r.started for r in done), default=crash_at)
        end = max((r.ended for r in done), default=crash_at)
        before = [r for r in done if r.ok and r.ended < crash_at]
        report["ok_per_s_before"] = round(len(before) / max(crash_at - start, 1e-9), 1)
        report["ok_per_s_after"] = None
        if recovered is not None and end > recovered:
            after = [r for r in done if r.ok and r.started >= recovered]
            report["ok_per_s_after"] = round(len(after) / (end - recovered), 1)
        return report


def audit(conninfo, load, smtp_messages):
    """Lost committed sign-ups and outbox emails missing or doubled at the SMTP sink."""
    committed = load.committed_emails()
    emails = committed + load.in_doubt_emails()
    with psycopg.connect(conninfo, connect_timeout=5) as conn:
        present = {row[0] for row in conn.execute(
            "SELECT email FROM users WHERE email = ANY(%s)", (emails,))}
        outbox = dict(conn.execute(
            "SELECT message_id, status FROM outbox_emails WHERE to_addr = ANY(%s)",
            (sorted(present),)).fetchall())
        mailed = {row[0] for row in conn.execute(
            "SELECT to_addr FROM outbox_emails WHERE to_addr = ANY(%s)", (sorted(present),))}
    received = collections.Counter(str(m["Message-ID"]) for m in smtp_messages)
    return {
        "committed_writes": len(committed),
        "in_doubt_writes": len(emails) - len(committed),
        "in_doubt_that_committed": len(present - set(committed)),
        "lost_committed_writes": sorted(set(committed) - present),
        "users_without_outbox_email": sorted(present - mailed),
        "emails_in_outbox": len(outbox),
        "emails_not_sent": sorted(mid for mid, status in outbox.items() if status != "sent"),
        "emails_not_received": sorted(mid for mid in outbox if received[mid] == 0),
        "emails_doubled": sorted(mid for mid in outbox if received[mid] > 1),
    }


def pending_outbox(conninfo, load):
    """The outbox emails of the load's sign-ups still waiting to be sent."""
    emails = load.committed_emails() + load.in_doubt_emails()
    with psycopg.connect(conninfo, connect_timeout=5) as conn:
        return conn.execute(
            "SELECT id, attempts, due_at, enqueued_at, last_error FROM outbox_emails "
            "WHERE to_addr = ANY(%s) AND status = 'pending' ORDER BY id", (emails,)).fetchall()


def skip_reenqueue_wait(conninfo):
    """Move the pending emails' ``enqueued_at`` back past ``REENQUEUE_AFTER``.

    A send job that ran while there was no primary failed, and its email waits that long
    (2 minutes) before the sweeper enqueues it again; a test moves time on in the database
    instead of waiting. A job still queued for such an email finds it sent and does nothing.
    """
    with psycopg.connect(conninfo, connect_timeout=5) as conn:
        conn.execute("UPDATE outbox_emails SET enqueued_at = enqueued_at - %s "
                     "WHERE status = 'pending' AND enqueued_at IS NOT NULL", (REENQUEUE_AFTER,))


def summary(values):
    """``p50``/``max`` of a list of seconds (None left out)."""
    values = [v for v in values if v is not None]
    if not values:
        return {"p50": None, "max": None}
    return {"p50": round(statistics.median(values), 2), "max": round(max(values), 2)}
