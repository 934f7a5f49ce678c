"""The buckets of records: where each one lives, and moving one to another server.

The truth of where a bucket lives is PostgreSQL's own catalogue: a bucket is a partition of
records, either a table on the primary or a postgres_fdw foreign table whose server is a
shard. Moving one (``move_bucket``) copies its rows while every write to the catalogue waits
and reads go on, checks the copy, then swaps the partition in one short transaction.
"""
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from sqlalchemy import text

from jala.errors import RuleViolation
from jala.extensions import db
from jala.shards import remote
from jala.shards.models import Shard
from jala.shards.schema import (
    BUILD_MEMORY,
    TABLE,
    bucket_index_definitions,
    columns,
    statistics_targets,
)

_BOUND = re.compile(r"MODULUS (\d+), REMAINDER (\d+)", re.IGNORECASE)
LOCAL = None  # a bucket's server when it lives on the primary
SWAP_LOCK_TIMEOUT = "500ms"  # how long searches may queue behind one attempt to swap
SWAP_ATTEMPTS = 40
SWAP_PAUSE = 0.05  # seconds between attempts, growing


@dataclass
class Bucket:
    """One hash partition of records: which ids (modulus, remainder), which table, where."""

    name: str
    modulus: int
    remainder: int
    server: str  # the foreign server's name, or None on the primary
    remote_table: str = None

    @property
    def bound(self):
        return f"FOR VALUES WITH (MODULUS {self.modulus}, REMAINDER {self.remainder})"


_LAYOUT = ("SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), s.srvname, "
           "(SELECT substr(o, 12) FROM unnest(f.ftoptions) o WHERE o LIKE 'table_name=%') "
           "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
           "LEFT JOIN pg_foreign_table f ON f.ftrelid = c.oid "
           "LEFT JOIN pg_foreign_server s ON s.oid = f.ftserver "
           f"WHERE i.inhparent = to_regclass('{TABLE}')")


def layout(connection=None):
    """Every bucket of records, in remainder order (empty when records is not partitioned)."""
    return _buckets((connection or db.session).execute(text(_LAYOUT)).all())


def _buckets(rows):
    found = []
    for name, bound, server, remote_table in rows:
        modulus, remainder = map(int, _BOUND.search(bound).groups())
        found.append(Bucket(name, modulus, remainder, server, remote_table))
    return sorted(found, key=lambda b: b.remainder)


def shard_by_server(server):
    return db.session.query(Shard).filter_by(server_name=server).one()


def _open(server):
    """A direct connection to where a bucket lives: the primary or a shard."""
    if server is LOCAL:
        return coordinator_connection()
    shard = shard_by_server(server)
    return remote.connect(shard.conninfo, remote.mapped_password(server))


def coordinator_connection():
    raw = db.engine.raw_connection()
    conn = raw.driver_connection
    conn.autocommit = False
    for name, value in remote.SAME_TEXT.items():
        conn.execute("SELECT set_config(%s, %s, false)", (name, value))
    conn.commit()
    raw.detach()  # ours alone: closed at the end, never handed back to the pool
    return conn


def checksum(conn, table, names, where="TRUE"):
    """``(rows, checksum)`` of a table's rows, the same for the same rows on any server."""
    return tuple(conn.execute(
        f"SELECT count(*), coalesce(sum(('x' || left(md5(CAST(ROW({_column_list(names)}) "
        f"AS text)), 15))::bit(60)::bigint::numeric), 0) FROM {table} WHERE {where}"
    ).fetchone())


def _column_list(names):
    return ", ".join(f'"{name}"' for name in names)


@dataclass
class Shape:
    """What a bucket table is made of, read from records before anything is locked."""

    columns: list
    statistics: dict
    indexes: list

    @property
    def names(self):
        return [column.name for column in self.columns]


def shape_of(bucket_name, table):
    """The columns, statistics targets and indexes of records, written for one bucket table."""
    with db.engine.connect() as connection:
        return Shape(columns(connection), statistics_targets(connection),
                     bucket_index_definitions(connection, bucket_name, table))


def make_bucket_table(target, table, shape):
    """The empty bucket table on the target server (no indexes yet: they are built after)."""
    target.execute(f"DROP TABLE IF EXISTS {table}")
    target.execute(f"CREATE TABLE {table} ({', '.join(c.sql() for c in shape.columns)})")
    _set_statistics(target, table, shape)


def _set_statistics(conn, table, shape):
    for column, value in shape.statistics.items():
        conn.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET STATISTICS {value}')


def index_bucket_table(target, bucket_name, table, shape):
    target.execute("SELECT set_config('maintenance_work_mem', %s, true)",
                   (BUILD_MEMORY,))
    target.execute(f"ALTER TABLE {table} ADD CONSTRAINT {bucket_name}_pkey PRIMARY KEY (id)")
    for definition in shape.indexes:
        target.execute(definition)


def copy_rows(source, source_table, target, target_table, names, where="TRUE"):
    """Stream the rows by binary COPY from one server to the other; returns bytes moved."""
    moved = 0
    cols = _column_list(names)
    with source.cursor().copy(f"COPY (SELECT {cols} FROM {source_table} WHERE {where}) "
                              f"TO STDOUT (FORMAT binary)") as out, target.cursor().copy(
                f"COPY {target_table} ({cols}) FROM STDIN (FORMAT binary)") as into:
        for chunk in out:
            into.write(chunk)
            moved += len(chunk)
    return moved


@dataclass
class Move:
    """What moving one bucket did."""

    bucket: str
    source: str
    target: str
    rows: int
    seconds: float
    phases: dict  # seconds spent copying, indexing, checking, swapping, analyzing

    @property
    def rows_per_second(self):
        return self.rows / self.seconds if self.seconds else 0.0


class Phases:
    """How long each phase of a move took."""

    def __init__(self):
        self.seconds = {}

    @contextmanager
    def timing(self, name):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def location_name(server):
    return "primary" if server is LOCAL else shard_by_server(server).name


def move_bucket(bucket, target_server):
    """Move one bucket to ``target_server`` (a shard's server, or LOCAL for the primary).

    Every write to records waits while the rows are copied (``LOCK … IN EXCLUSIVE MODE``: the
    parent first, as writers take it, so no writer can hold it while waiting for the bucket);
    searches go on reading the old bucket. The copy is checked (rows and a checksum of every
    row's text), then one short transaction detaches the old partition and attaches the new
    one. No record is lost or doubled: the old bucket is dropped only after the swap commits.
    """
    if bucket.server == target_server:
        return None
    started = time.perf_counter()
    incoming = f"{bucket.name}_incoming"
    target_table = incoming if target_server is LOCAL else bucket.name
    source_table = bucket.name if bucket.server is LOCAL else bucket.remote_table
    shape = shape_of(bucket.name, target_table)
    phases = Phases()
    coordinator = coordinator_connection()
    elsewhere = {}  # the shards' connections, by server
    try:
        for server in {bucket.server, target_server} - {LOCAL}:
            elsewhere[server] = _open(server)
        source = elsewhere.get(bucket.server, coordinator)
        target = elsewhere.get(target_server, coordinator)
        rows = _copy_and_swap(coordinator, source, target, bucket, target_server,
                              source_table, target_table, shape, phases)
    finally:
        for conn in elsewhere.values():
            conn.close()
    try:
        if bucket.server is not LOCAL:
            with _open(bucket.server) as old:
                old.execute(f"DROP TABLE IF EXISTS {source_table}")
                old.commit()
        with phases.timing("analyze"):  # the planner's figures for the new partition
            coordinator.execute(f"ANALYZE {bucket.name}")
            coordinator.commit()
    finally:
        coordinator.close()
    return Move(bucket.name, location_name(bucket.server), location_name(target_server),
                rows, time.perf_counter() - started, phases.seconds)


def _copy_and_swap(coordinator, source, target, bucket, target_server, source_table,
                   target_table, shape, phases):
    """Copy, check and swap; returns the rows. A failure rolls back and drops the copy."""
    made = False
    try:
        coordinator.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
        _refuse_unsafe_move(coordinator, source, target, bucket)
        make_bucket_table(target, target_table, shape)
        made = True
        if target is not coordinator:
            target.commit()
        with phases.timing("copy"):
            copy_rows(source, source_table, target, target_table, shape.names)
        with phases.timing("indexes"):
            index_bucket_table(target, bucket.name, target_table, shape)
        with phases.timing("check"):
            expected = checksum(source, source_table, shape.names)
            copied = checksum(target, target_table, shape.names)
        if expected != copied:
            raise RuleViolation(f"{bucket.name}: the copy differs ({copied[0]} rows, "
                                f"{expected[0]} expected); nothing was changed")
        if target is not coordinator:
            target.commit()
        with phases.timing("swap"):
            _swap_when_free(coordinator, bucket, target_server, shape)
            coordinator.commit()
        return expected[0]
    except BaseException:
        coordinator.rollback()
        if target is not coordinator:
            target.rollback()
            if made:  # only our copy: before it, a table of that name may be a live bucket
                target.execute(f"DROP TABLE IF EXISTS {target_table}")
                target.commit()
        if source is not coordinator:
            source.rollback()
        raise


def _refuse_unsafe_move(coordinator, source, target, bucket):
    """Refuse, under the write lock, a move that would drop the rows it is to copy.

    Moves take turns on the lock, so one planned before another ran may find its bucket gone
    from where it was planned; and a shard registered twice, or the primary registered as a
    shard, puts the copy where the source is (making the empty copy drops the bucket).
    """
    now = {b.name: b.server for b in _buckets(coordinator.execute(_LAYOUT).fetchall())}
    if now.get(bucket.name, "gone") != bucket.server:
        raise RuleViolation(f"{bucket.name} has moved since the plan was made (another "
                            f"rebalance?); nothing was changed, plan again")
    if remote.identity(source) == remote.identity(target):
        raise RuleViolation(f"{bucket.name}: its source and target are one database; "
                            f"nothing was changed")


def _swap_when_free(coordinator, bucket, target_server, shape):
    """Swap as soon as no search reads records, never queueing searches for long.

    Detaching takes records for itself: it waits for the searches running, and the searches
    that come meanwhile wait behind it. So it waits at most SWAP_LOCK_TIMEOUT, gives way and
    tries again (the write lock and the copy are kept), SWAP_ATTEMPTS times.
    """
    coordinator.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
    for attempt in range(SWAP_ATTEMPTS):
        coordinator.execute("SAVEPOINT swap")
        try:
            _swap(coordinator, bucket, target_server, shape)
            return
        except psycopg.errors.LockNotAvailable:
            coordinator.execute("ROLLBACK TO SAVEPOINT swap")
            time.sleep(SWAP_PAUSE * (attempt + 1))
    raise RuleViolation(f"{bucket.name}: searches kept records busy; nothing was changed, "
                        f"try again")


def _swap(coordinator, bucket, target_server, shape):
    """Detach the old partition and attach the new one, in the caller's transaction."""
    coordinator.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {bucket.name}")
    kind = "TABLE" if bucket.server is LOCAL else "FOREIGN TABLE"
    coordinator.execute(f"DROP {kind} {bucket.name}")
    if target_server is LOCAL:
        coordinator.execute(f"ALTER TABLE {bucket.name}_incoming RENAME TO {bucket.name}")
        coordinator.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {bucket.name} "
                            f"{bucket.bound}")
    else:
        coordinator.execute(
            f"CREATE FOREIGN TABLE {bucket.name} PARTITION OF {TABLE} {bucket.bound} "
            f"SERVER {target_server} "
            f"{remote.options_sql({'schema_name': 'public', 'table_name': bucket.name})}")
    _set_statistics(coordinator, bucket.name, shape)
