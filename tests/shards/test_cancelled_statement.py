"""A last resort cancelled at its statement timeout on a sharded catalogue.

The forgiving search's last resort runs under a 100 ms statement timeout, in a savepoint. On a
sharded catalogue the cancel may land while a shard works on the statement, or while
postgres_fdw opens that shard's transaction and savepoint (its first use in the transaction);
either way the same transaction's next statements must still be served. A shard is made slow
by stopping its backends (SIGSTOP) for a second.
"""
import os
import signal
import threading
from contextlib import contextmanager

from sqlalchemy import event, text

from jala.extensions import db
from jala.search import forgiving
from jala.search.relaxation import query_pieces
from jala.search.spelling import trigram_spelling_relaxation

STALL_SECONDS = 1.0


def _last_resort():
    relaxation = trigram_spelling_relaxation(query_pieces(["kongzhiqii"]))
    assert relaxation.last_resort
    return relaxation, forgiving._statement(relaxation, 0, "TRUE"), dict(
        relaxation.params, anchors="", rk=50)


def _record_count():
    return db.session.execute(text("SELECT count(*) FROM records")).scalar()


class Stall:
    """Stops the shard's postgres_fdw backends; they go on ``STALL_SECONDS`` later."""

    def __init__(self, cluster):
        with cluster.connect(autocommit=True) as conn:
            self.pids = [pid for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'postgres_fdw'")]
        assert self.pids, "the coordinator has no connection to the shard yet"
        self.resume = threading.Timer(STALL_SECONDS, self._signal, (signal.SIGCONT,))

    def _signal(self, signum):
        for pid in self.pids:
            os.kill(pid, signum)

    def __call__(self):
        self._signal(signal.SIGSTOP)
        self.resume.start()

    def over(self):
        """Wait until the backends go on again (at once if they were never stopped)."""
        if self.resume.ident is not None:
            self.resume.join()


@contextmanager
def when_the_clock_starts(action):
    """Run ``action`` as the last resort sets its statement timeout."""
    def before(_conn, _cursor, statement, *_args):
        if statement.startswith("SET LOCAL statement_timeout = "):
            action()
    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def test_cancelled_while_a_shard_works_on_it(coordinator, sharded, shard_clusters):
    with coordinator.app_context():
        assert _record_count() == len(sharded["ids"])  # every shard connection open
        db.session.rollback()
        stall = Stall(shard_clusters[0])
        try:
            with when_the_clock_starts(stall):
                assert forgiving._fetch_in_time(*_last_resort()) == []  # cancelled
        finally:
            stall.over()
        assert _record_count() == len(sharded["ids"])
        db.session.rollback()


def test_cancelled_while_a_shard_opens_its_transaction(coordinator, sharded, shard_clusters):
    """Without the buckets opened first, the cancel lands in postgres_fdw's START TRANSACTION."""
    with coordinator.app_context():
        assert _record_count() == len(sharded["ids"])
        db.session.rollback()
        stall = Stall(shard_clusters[0])
        stall()
        try:
            forgiving._fetch_in_time(*_last_resort())
        finally:
            stall.over()
        assert _record_count() == len(sharded["ids"])
        db.session.rollback()
