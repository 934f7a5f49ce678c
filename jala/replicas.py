"""Read replicas: searches, record pages and the JSON API read from a streaming standby.

``DATABASE_REPLICA_URLS`` names the standbys; without it nothing here does anything. A view
opts in with ``@reads_from_replica``: inside it, reads (ORM selects and read-only SQL text,
``SET LOCAL`` included, so that it reaches the same connection as the select after it) go to
one replica, held for the whole view; flushes and every other statement go to the primary,
and so does everything outside such a view. Each process asks every replica at most every
``REPLICA_CHECK_SECONDS`` whether it is up and how far behind it is; one down or further
behind than ``REPLICA_MAX_LAG_SECONDS`` is skipped, the rest take turns, none left means the
primary. A reader whose request wrote something carries the primary's WAL position in their
session, and reads from a replica only once it has replayed that far (read-your-writes). A
replica failing in the middle of a view is marked down, the view's transaction is rolled back
(so nothing it wrote is kept twice) and the view runs again on the primary.
"""
import itertools
import logging
import re
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps

from flask import current_app, has_app_context, has_request_context, request, session
from flask_login import current_user
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.sql import TextClause
from sqlalchemy.sql.selectable import GenerativeSelect

log = logging.getLogger(__name__)

EXTENSION = "jala.replicas"
LSN_KEY = "wal_lsn"  # the reader's last write, in their (signed cookie) session
CONNECT_TIMEOUT_SECONDS = 2  # libpq's smallest useful value
CHECK_TIMEOUT_MS = 1000
QUERY_CANCELED = "57014"  # a statement timeout the view set itself: no reason to go elsewhere

_READ_START = re.compile(r"\s*(SELECT|WITH|SET|SHOW|EXPLAIN|VALUES|TABLE)\b", re.IGNORECASE)
_WRITE_WORD = re.compile(
    r"\b(INSERT|UPDATE|DELETE|MERGE|CREATE|ALTER|DROP|TRUNCATE|COPY|GRANT|REVOKE|LOCK|VACUUM|"
    r"ANALYZE|REFRESH|CALL|DO|NOTIFY|LISTEN|PREPARE|NEXTVAL|SETVAL|PG_ADVISORY_\w+|"
    r"PG_TRY_ADVISORY_\w+|FOR\s+(UPDATE|SHARE|NO\s+KEY|KEY))\b", re.IGNORECASE)
_CHECK_SQL = text(
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
    "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END")


def lsn_number(lsn):
    """A WAL position ``'16/B374D848'`` as a number (None stays None)."""
    if lsn is None:
        return None
    high, _, low = str(lsn).partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def reads_only(clause):
    """Whether a statement only reads, so a replica may run it."""
    if isinstance(clause, GenerativeSelect):
        return clause._for_update_arg is None
    if isinstance(clause, TextClause):
        parts = [p for p in clause.text.split(";") if p.strip()]
        return bool(parts) and all(_READ_START.match(p) for p in parts) and \
            not _WRITE_WORD.search(clause.text)
    return False


# --- the replicas and what each process knows of them -------------------------------------------

@dataclass
class Replica:
    """One standby: its engine and what the last check found."""

    name: str
    engine: object
    ok: bool = False
    lag_seconds: float | None = None
    lag_bytes: int | None = None
    replay_lsn: int | None = None
    ms: float | None = None
    error: str | None = None
    checked_at: float = field(default=0.0)
    primary_lsn: int | None = None  # the primary's position at the last check
    stuck_since: float | None = None

    def check(self, primary_lsn=None):
        """Ask the standby whether it is up and how far behind it is (updates the state)."""
        started = time.perf_counter()
        try:
            with self.engine.connect() as conn:
                conn.execute(text(f"SET LOCAL statement_timeout = {CHECK_TIMEOUT_MS}"))
                recovering, replay, lag = conn.execute(_CHECK_SQL).one()
                conn.rollback()
            replay = lsn_number(replay)
            self.lag_seconds = round(max(float(lag), self._stuck_for(replay)), 3)
            self.replay_lsn = replay
            self.lag_bytes = (max(primary_lsn - replay, 0)
                              if primary_lsn is not None and replay is not None else None)
            self.ok, self.error = bool(recovering), None if recovering else "not a standby"
        except Exception as exc:  # a replica that cannot answer is down, never a 500
            self.ok, self.error = False, type(exc).__name__
        self.ms = round((time.perf_counter() - started) * 1000, 1)
        self.checked_at, self.primary_lsn = time.monotonic(), primary_lsn
        return self

    def _stuck_for(self, replay):
        # A standby cut off from the primary has received nothing, so has nothing left to
        # replay, and PostgreSQL's own measure reads 0. It is behind all the same when it has
        # not moved since the last check although the primary then had WAL it lacks.
        if replay is not None and replay == self.replay_lsn and self.primary_lsn is not None \
                and self.primary_lsn > replay:
            self.stuck_since = self.stuck_since or self.checked_at
            return time.monotonic() - self.stuck_since
        self.stuck_since = None
        return 0.0

    def mark_down(self, reason):
        """A request found it failing: skip it until the next check finds it answering."""
        if self.ok:
            log.warning("replica %s is down (%s): reading from the primary", self.name, reason)
        self.ok, self.error = False, reason

    def usable(self, max_lag_seconds):
        """Up, and no further behind than ``max_lag_seconds``."""
        return self.ok and (self.lag_seconds or 0) <= max_lag_seconds

    def as_report(self, max_lag_seconds):
        usable = self.usable(max_lag_seconds)
        return {"name": self.name, "ok": usable, "lag_seconds": self.lag_seconds,
                "lag_bytes": self.lag_bytes, "ms": self.ms,
                "error": None if usable else (self.error or "lagging")}


def _replica_name(url):
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


class ReplicaSet:
    """The configured replicas of one app, checked at most every ``check_seconds``."""

    def __init__(self, urls, engine_options, max_lag_seconds, check_seconds):
        options = dict(engine_options or {})
        options["connect_args"] = dict(options.get("connect_args") or {},
                                       connect_timeout=CONNECT_TIMEOUT_SECONDS)
        options["pool_pre_ping"] = True
        self.replicas = [Replica(_replica_name(url), create_engine(url, **options))
                         for url in urls]
        for replica in self.replicas:
            event.listen(replica.engine, "handle_error", self._failed_on(replica))
        self.max_lag_seconds = max_lag_seconds
        self.check_seconds = check_seconds
        self.primary_engine = None
        self._turn = itertools.count()
        self._checking = threading.Lock()
        self._checked_at = None

    def _failed_on(self, replica):
        def note(context):
            if context.is_pre_ping:
                return  # the pool replaces the connection; a failing reconnect comes next
            scope = _scope.get()
            if scope is not None and scope.replica is replica and \
                    getattr(context.original_exception, "sqlstate", None) != QUERY_CANCELED:
                scope.replica_failed = True
            if context.is_disconnect or context.connection is None:
                replica.mark_down(type(context.original_exception).__name__)
        return note

    def check_all(self):
        """Check every replica now (and the primary's WAL position, for the lag in bytes)."""
        primary_lsn = None
        if self.primary_engine is not None:
            try:
                with self.primary_engine.connect() as conn:
                    # flushed: what a standby can have been sent by now
                    primary_lsn = lsn_number(conn.execute(
                        text("SELECT pg_current_wal_flush_lsn()::text")).scalar())
            except Exception:  # the primary's own health is /healthz's postgres entry
                primary_lsn = None
        for replica in self.replicas:
            replica.check(primary_lsn)
        self._checked_at = time.monotonic()

    def _check_in_background(self):
        try:
            self.check_all()
        finally:
            self._checking.release()

    def refresh(self):
        """Check again if the last check is older than ``check_seconds``; never waits long.

        The first check of a process runs in the request (there is nothing to go on yet);
        later ones run in a thread of their own while requests use what is known.
        """
        if self._checked_at is None:
            with self._checking:
                if self._checked_at is None:
                    self.check_all()
            return
        if time.monotonic() - self._checked_at < self.check_seconds:
            return
        if self._checking.acquire(blocking=False):
            threading.Thread(target=self._check_in_background, name="replica-check",
                             daemon=True).start()

    def usable(self):
        """Replicas that answered the last check and lag no more than the setting."""
        return [r for r in self.replicas if r.usable(self.max_lag_seconds)]

    def choose(self, wanted_lsn=None):
        """``(replica, needs_lsn_check)``: the next usable replica in turn, or ``(None, False)``.

        With ``wanted_lsn`` a replica the last check saw past it is preferred; otherwise the
        one chosen must be asked (``needs_lsn_check``).
        """
        candidates = self.usable()
        if not candidates:
            return None, False
        if wanted_lsn is not None:
            past = [r for r in candidates if r.replay_lsn is not None
                    and r.replay_lsn >= wanted_lsn]
            if past:
                return past[next(self._turn) % len(past)], False
            return candidates[next(self._turn) % len(candidates)], True
        return candidates[next(self._turn) % len(candidates)], False

    def dispose(self):
        for replica in self.replicas:
            replica.engine.dispose()


def init_app(app):
    """Build the app's replica set from its settings (nothing when none is configured)."""
    urls = app.config.get("DATABASE_REPLICA_URLS") or []
    if not urls:
        app.extensions[EXTENSION] = None
        return
    app.extensions[EXTENSION] = ReplicaSet(
        urls, app.config.get("SQLALCHEMY_ENGINE_OPTIONS"),
        app.config["REPLICA_MAX_LAG_SECONDS"], app.config["REPLICA_CHECK_SECONDS"])


def replica_set(app=None):
    """The app's ``ReplicaSet``, or None without replicas."""
    return (app or current_app).extensions.get(EXTENSION)


def health_report(app=None):
    """Each replica checked now, for ``/healthz``; None without replicas."""
    replicas = replica_set(app)
    if replicas is None:
        return None
    _know_primary(replicas)
    replicas.check_all()
    return [r.as_report(replicas.max_lag_seconds) for r in replicas.replicas]


def _know_primary(replicas):
    if replicas.primary_engine is None:
        replicas.primary_engine = current_app.extensions["sqlalchemy"].engine


# --- routing inside a view ---------------------------------------------------------------------

_scope = ContextVar("replica_scope", default=None)


class ReplicaScope:
    """One view's reads: the replica chosen for it and its one connection (opened lazily).

    The connection's transaction is the scope's own, never committed by the request: the
    session joins it (``rollback_only``), and the scope closes it when the view returns, so a
    replica that dies afterwards cannot fail the request's commit.
    """

    def __init__(self, replica=None, wanted_lsn=None, check_lsn=False):
        self.replica = replica
        self.wanted_lsn = wanted_lsn
        self.check_lsn = check_lsn
        self.connection = None
        self.replica_failed = False
        self.used_replica = False

    def bind(self):
        """The replica connection the scope's reads use, or None: read from the primary."""
        if self.replica is None:
            return None
        if self.connection is None:
            try:
                connection = self.replica.engine.connect()
                connection.begin()
                if self.check_lsn and not connection.execute(
                        text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"),
                        {"lsn": _lsn_text(self.wanted_lsn)}).scalar():
                    connection.close()  # not yet past the reader's write: the primary
                    self.replica = None
                    return None
            except Exception as exc:  # down before any read: the primary, nothing to undo
                self.replica.mark_down(type(exc).__name__)
                self.replica, self.replica_failed = None, False
                return None
            self.connection = connection
        self.used_replica = True
        return self.connection

    def close(self, db_session):
        """End the replica's transaction and take it out of the session's (which goes on)."""
        if self.connection is None:
            return
        # The session joined the connection's transaction (SQLAlchemy's ``rollback_only``):
        # forgotten there, the request's commit or rollback never reaches a replica, and
        # cannot fail on one that died after the view returned. SQLAlchemy has no public call
        # for one connection of a session's transaction; its map of them is the one place.
        transaction = db_session()._transaction
        while transaction is not None:
            for key in [key for key, entry in transaction._connections.items()
                        if entry[0] is self.connection]:
                del transaction._connections[key]
            transaction = transaction._parent
        try:
            self.connection.close()
        except Exception as exc:  # what it read is read; its end is not ours to report
            self.replica.mark_down(type(exc).__name__)
        self.connection = None


def _lsn_text(number):
    return f"{number >> 32:X}/{number & 0xFFFFFFFF:X}"


class RoutingSession(FlaskSession):
    """Flask-SQLAlchemy's session, sending the reads of a replica scope to its replica."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        scope = _scope.get()
        if scope is not None and bind is None and not self._flushing and reads_only(clause):
            connection = scope.bind()
            if connection is not None:
                return connection
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


@event.listens_for(RoutingSession, "after_flush")
def _note_flush(session, _flush_context):
    if _replicas_configured():
        _note_write(session)


@event.listens_for(RoutingSession, "do_orm_execute")
def _note_statement(state):
    # every statement of every request passes here: without replicas nobody reads the mark
    if not _replicas_configured():
        return
    if state.is_insert or state.is_update or state.is_delete or (
            isinstance(state.statement, TextClause) and not reads_only(state.statement)):
        _note_write(state.session)


def _note_write(session):
    # what a replica-read view writes (the search log, usage events) is the portal's own
    # bookkeeping, never something its reader reads back
    if _scope.get() is None:
        session.info["wrote"] = True


def _replicas_configured():
    return has_app_context() and current_app.extensions.get(EXTENSION) is not None


def remember_commit(db_session):
    """After the request committed: if it wrote, keep the primary's WAL position for its reader.

    Called by the request's edge (``web.py``) right after the commit; costs nothing without
    replicas or without a write.
    """
    replicas = current_app.extensions.get(EXTENSION)
    if replicas is None or not db_session.info.pop("wrote", False):
        return
    try:
        # the insert position, not the write one: a commit made with synchronous_commit off
        # (the importer's) may not be written yet, and it is past the end of every record
        lsn = lsn_number(db_session.execute(
            text("SELECT pg_current_wal_insert_lsn()::text")).scalar())
    except Exception:  # the write is committed; the reader may wait a moment to see it
        log.warning("could not read the primary's WAL position after a commit", exc_info=True)
        db_session.rollback()
        return
    if lsn > (lsn_number(session.get(LSN_KEY)) or 0):
        session[LSN_KEY] = _lsn_text(lsn)


def _readers_lsn():
    # no session cookie: the reader never wrote, and their session is not even opened
    if not has_request_context() or \
            current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return None
    return lsn_number(session.get(LSN_KEY))


def _load_user_first():
    # the signed-in user (their server-side session, which logout ends) is read from the
    # primary, before the view's reads go anywhere else
    getattr(current_user, "is_authenticated", None)


def reads_from_replica(view):
    """The view's reads go to a replica, when one is usable (see the module's docstring).

    Place it nearest the function, under the route and rate-limit decorators, so a view run
    again on the primary is neither counted nor logged twice by them.
    """
    @wraps(view)
    def routed(*args, **kwargs):
        replicas = current_app.extensions.get(EXTENSION)
        database = current_app.extensions["sqlalchemy"]
        if replicas is None or _scope.get() is not None or \
                not isinstance(database.session(), RoutingSession):
            return view(*args, **kwargs)
        _load_user_first()
        _know_primary(replicas)
        replicas.refresh()
        replica, check_lsn = replicas.choose(wanted_lsn := _readers_lsn())
        scope = ReplicaScope(replica, wanted_lsn, check_lsn)
        token = _scope.set(scope)
        try:
            return _flushed(database, view(*args, **kwargs))
        except Exception as error:
            if not scope.used_replica or not (scope.replica_failed or _not_found(error)):
                raise
            retry = error
        finally:
            scope.close(database.session)
            _scope.reset(token)
        return _again_on_the_primary(database, view, retry, scope, args, kwargs)
    return routed


def _flushed(database, response):
    # the view's own rows (the search log) are written while the scope still marks them as
    # bookkeeping, not at the commit after it
    database.session.flush()
    return response


def _not_found(error):
    # a record newer than the replica (imported a moment ago) is read from the primary
    return getattr(error, "status", None) == 404


def _again_on_the_primary(database, view, error, scope, args, kwargs):
    log.info("replica %s: %s; reading again from the primary",
             scope.replica.name if scope.replica else "?", type(error).__name__)
    database.session.rollback()  # whatever the first run wrote is gone: nothing is doubled
    token = _scope.set(ReplicaScope())  # the primary, and its writes are still bookkeeping
    try:
        return _flushed(database, view(*args, **kwargs))
    finally:
        _scope.reset(token)
