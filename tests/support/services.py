"""The real services the tests talk to: PostgreSQL, Redis and an SMTP server.

PostgreSQL: the server of ``DATABASE_URL`` if set, else 127.0.0.1:5432 if it answers, else an
embedded one; each run creates its own database and drops it at the end. Redis: database 15
of ``TEST_REDIS_URL``/127.0.0.1:6379 if it answers, else a private redis-server; each run
writes only keys under a prefix and a queue name of its own (``PrivateRedis``: a server of a
test's own, for the fault tests). SMTP: aiosmtpd on a free loopback port.
"""
import os
import secrets
import tempfile
import threading
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from aiosmtpd.controller import Controller

from config import normalise_database_url
from jala.embedded.postgres import create_database
from jala.embedded.redis_server import free_port, start_redis_server, stop_redis_server


def _answers(conninfo):
    try:
        psycopg.connect(conninfo, connect_timeout=2).close()
        return True
    except psycopg.OperationalError:
        return False


class ScratchPostgres:
    """A throw-away database on a real PostgreSQL server."""

    def __init__(self):
        self._embedded = None
        candidates = []
        if os.environ.get("DATABASE_URL"):
            url = normalise_database_url(os.environ["DATABASE_URL"]).replace("+psycopg", "")
            parts = urlsplit(url)
            candidates.append(urlunsplit(parts._replace(path="/postgres")))
        candidates.append("postgresql://postgres@127.0.0.1:5432/postgres")
        self.admin_url = next((c for c in candidates if _answers(c)), None)
        if self.admin_url is None:
            import pgserver

            self._embedded = pgserver.get_server(tempfile.mkdtemp(prefix="jala-pg-"),
                                                 cleanup_mode="delete")
            self.admin_url = self._embedded.get_uri()

    def create(self, prefix="jala_test"):
        """Create a new empty UTF-8 database; returns its SQLAlchemy URL."""
        name = f"{prefix}_{secrets.token_hex(4)}"
        create_database(self.admin_url, name)
        parts = urlsplit(self.admin_url)
        url = urlunsplit(parts._replace(path="/" + name))
        return normalise_database_url(url), name

    def drop(self, name):
        """Drop a database made by ``create`` (ending its connections first)."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,))
            conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {}").format(
                psycopg.sql.Identifier(name)))

    def server_version(self):
        with psycopg.connect(self.admin_url) as conn:
            return conn.info.server_version


class ScratchRedis:
    """This run's corner of a real Redis: keys under a prefix of its own, and its own queue.

    The machine's server (``TEST_REDIS_URL``, else 127.0.0.1:6379, database 15) is shared with
    other runs and with a running portal, so the run never flushes a database: ``clear`` and
    ``close`` delete only the keys this run's prefix and queue name mark. Without a server
    answering, a private redis-server is started.
    """

    def __init__(self):
        self.proc = None
        run = secrets.token_hex(4)
        self.prefix = f"jala-test-{run}"
        self.queue = f"jala-test-{run}"
        base = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
        try:
            redis.Redis.from_url(base, socket_connect_timeout=1).ping()
            self.url = base
        except redis.RedisError:
            self.proc, url = start_redis_server(tempfile.mkdtemp(prefix="jala-redis-"),
                                                persist=False)
            self.url = url.rsplit("/", 1)[0] + "/15"
        self.client = redis.Redis.from_url(self.url)

    def keys(self):
        """The keys this run wrote: its prefix's, its queue's and the queue's jobs."""
        from rq import Queue

        found = set(self.client.scan_iter(match=f"{self.prefix}:*", count=1000))
        found |= set(self.client.scan_iter(match=f"*{self.queue}*", count=1000))
        job_ids = Queue(self.queue, connection=self.client).get_job_ids()
        found |= {f"rq:job:{job_id}".encode() for job_id in job_ids}
        return found

    def clear(self):
        """Forget what this run put in Redis (as if its Redis had restarted empty)."""
        keys = self.keys()
        if keys:
            self.client.delete(*keys)

    def close(self):
        self.clear()
        if self.proc:
            stop_redis_server(self.proc)


class PrivateRedis:
    """A redis-server of a test's own on a fixed free port, which it may stop and restart."""

    def __init__(self, directory):
        self.directory = directory
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc, self.url = start_redis_server(self.directory, port=self.port, persist=False)
        return self

    def stop(self):
        stop_redis_server(self.proc)


class _Collect:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.fail_with = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.fail_with:
            return self.fail_with
        import email
        import email.policy

        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        with self.lock:
            self.messages.append(msg)
        return "250 OK"


class CatchingSMTP:
    """aiosmtpd on loopback that keeps what it receives in ``messages``."""

    def __init__(self, port=None):
        self.handler = _Collect()
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def messages(self):
        with self.handler.lock:
            return list(self.handler.messages)

    def clear(self):
        with self.handler.lock:
            self.handler.messages.clear()
        self.handler.fail_with = None

    def stop(self):
        self.controller.stop()
