"""The rules of the sharded catalogue: adding and removing shards, spreading the buckets.

Where a bucket lives is read from PostgreSQL (``buckets.layout``); the ``shards`` table only
registers the servers that may hold buckets. A shard is a postgres_fdw foreign server with
``async_capable`` (its buckets are scanned at the same time as the others'), a larger
``fetch_size`` and ``extensions 'pg_trgm'`` (so trigram operators are evaluated there).
"""
from dataclasses import dataclass, field

from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from jala.errors import RuleViolation
from jala.extensions import db
from jala.search.trigram import SHIPPABLE_OPERATORS
from jala.shards import remote
from jala.shards.buckets import LOCAL, layout, move_bucket
from jala.shards.models import Shard, ShardForeignKey
from jala.shards.schema import TABLE, is_partitioned


def shards():
    return db.session.execute(select(Shard).order_by(Shard.name)).scalars().all()


def get_shard(name):
    shard = db.session.execute(select(Shard).filter_by(name=name)).scalar()
    if shard is None:
        raise RuleViolation(f"no shard named {name}")
    return shard


def _next_name():
    taken = {s.name for s in shards()}
    return next(f"shard{n}" for n in range(1, len(taken) + 2) if f"shard{n}" not in taken)


def add_shard(url, name=None, password=None):
    """Register the PostgreSQL database at ``url`` as a shard (no bucket moves yet).

    Checks that it answers and matches the primary (version, encoding, collation), makes
    pg_trgm there, and makes the foreign server and our user mapping here.
    """
    conninfo, url_password = remote.split_url(url)
    password = password or url_password
    name = remote.check_name(name or _next_name())
    if db.session.execute(select(Shard).filter_by(name=name)).scalar():
        raise RuleViolation(f"a shard named {name} exists already")
    for shard in shards():
        if _same_place(shard.conninfo, conninfo):
            raise RuleViolation(f"that database is shard {shard.name} already")
    server = f"shard_{name}"
    coordinator = db.session.connection().connection.driver_connection
    with remote.connect(conninfo, password, autocommit=True) as there:
        if remote.identity(there) == remote.identity(coordinator):
            raise RuleViolation("that database is the primary's own catalogue, not a shard")
        remote.check_matches(coordinator, there)
        there.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    db.session.execute(text("CREATE EXTENSION IF NOT EXISTS postgres_fdw"))
    ship_trigram_operators()
    db.session.execute(text(
        f"CREATE SERVER {server} FOREIGN DATA WRAPPER postgres_fdw "
        f"{remote.options_sql(remote.server_options(conninfo))}"))
    try:
        db.session.execute(text(
            f"CREATE USER MAPPING FOR CURRENT_USER SERVER {server} "
            f"{remote.options_sql(remote.mapping_options(conninfo, password))}"))
    except DBAPIError as exc:  # its message quotes the statement, and so the password
        raise RuleViolation(f"cannot make the user mapping for {server} "
                            f"({str(exc.orig).strip().splitlines()[0]})") from None
    _probe(server)
    shard = Shard(name=name, conninfo=conninfo, server_name=server)
    db.session.add(shard)
    db.session.flush()
    return shard


def _same_place(one, other):
    keys = ("host", "hostaddr", "port", "dbname")
    a, b = conninfo_to_dict(one), conninfo_to_dict(other)
    return all(a.get(k) == b.get(k) for k in keys)


def _probe(server):
    """Read the shard through postgres_fdw once, as searches will (then forget the table)."""
    db.session.execute(text("SAVEPOINT shard_probe"))
    try:
        db.session.execute(text(
            f"CREATE FOREIGN TABLE shard_probe (datname name) SERVER {server} "
            f"OPTIONS (schema_name 'pg_catalog', table_name 'pg_database')"))
        db.session.execute(text("SELECT count(*) FROM shard_probe")).scalar()
    except Exception as exc:
        db.session.execute(text("ROLLBACK TO SAVEPOINT shard_probe"))
        raise RuleViolation(f"the primary cannot reach the shard through postgres_fdw "
                            f"({str(exc.__cause__ or exc).strip().splitlines()[0]})") from None
    db.session.execute(text("ROLLBACK TO SAVEPOINT shard_probe"))


def plan(keep_local=False, without=None):
    """``[(bucket, target server)]``: the moves that spread the buckets evenly.

    The locations are the shards (``without`` one being removed) and, when ``keep_local``
    or when there is no shard, the primary. Each location gets ``n // L`` buckets, the first
    ``n % L`` one more; buckets already where they may stay are not moved.
    """
    buckets = layout()
    if not buckets:
        raise RuleViolation("records is not partitioned yet: run `jala shards init` first")
    servers = [s.server_name for s in shards() if s.name != without]
    locations = servers + [LOCAL] if keep_local or not servers else servers
    quota = {location: len(buckets) // len(locations) + (index < len(buckets) % len(locations))
             for index, location in enumerate(locations)}
    staying, leaving = {location: 0 for location in locations}, []
    for bucket in buckets:
        if bucket.server in quota and staying[bucket.server] < quota[bucket.server]:
            staying[bucket.server] += 1
        else:
            leaving.append(bucket)
    moves = []
    for bucket in leaving:
        target = min(locations, key=lambda loc: (staying[loc] - quota[loc],
                                                 locations.index(loc)))
        staying[target] += 1
        moves.append((bucket, target))
    return moves


def ship_trigram_operators():
    """Let postgres_fdw send pg_trgm's conditions to the shards (jala/search/trigram.py).

    It sends only immutable ones; a restore of the primary or an update of pg_trgm makes the
    operators stable again, so ``add`` and ``rebalance`` both say it (it needs their owner).
    """
    for operator in SHIPPABLE_OPERATORS:
        db.session.execute(text(f"ALTER FUNCTION {operator} IMMUTABLE"))


def rebalance(keep_local=False, progress=None, without=None):
    """Move buckets, one at a time, until they are spread evenly; returns the moves."""
    if shards():
        ship_trigram_operators()
    done = []
    for bucket, target in plan(keep_local, without):
        move = move_bucket(bucket, target)
        done.append(move)
        if progress:
            progress(move)
    return done


def remove_shard(name, progress=None, keep_local=False):
    """Move every bucket off the shard ``name`` (to the others, or the primary), forget it."""
    shard = get_shard(name)
    moves = rebalance(keep_local=keep_local, progress=progress, without=name) \
        if is_partitioned(db.session.connection()) else []
    if any(bucket.server == shard.server_name for bucket in layout()):
        raise RuleViolation(f"{name} still holds buckets")
    db.session.execute(text(f"DROP USER MAPPING IF EXISTS FOR CURRENT_USER "
                            f"SERVER {shard.server_name}"))
    db.session.execute(text(f"DROP SERVER {shard.server_name} CASCADE"))
    db.session.delete(shard)
    db.session.flush()
    return moves


@dataclass
class Location:
    """Where buckets live: the primary or a shard, with what they hold."""

    name: str
    conninfo: str
    buckets: list = field(default_factory=list)
    rows: int = 0
    bytes: int = 0
    error: str = None


def locations():
    """The primary and each shard: their buckets, rows (counted) and size on disk."""
    buckets = layout()
    found = [Location("primary", "")]
    for bucket in buckets:
        if bucket.server is LOCAL:
            found[0].buckets.append(bucket.name)
    found[0].rows, found[0].bytes = _measure(db.session.connection().connection
                                             .driver_connection, found[0].buckets)
    if not buckets:
        found[0].rows = db.session.execute(select(func.count()).select_from(
            text(TABLE))).scalar()
        found[0].bytes = db.session.execute(text(
            f"SELECT pg_total_relation_size('{TABLE}')")).scalar()
    for shard in shards():
        place = Location(shard.name, shard.conninfo)
        place.buckets = [b.name for b in buckets if b.server == shard.server_name]
        tables = [b.remote_table for b in buckets if b.server == shard.server_name]
        try:
            with remote.connect(shard.conninfo, remote.mapped_password(shard.server_name)) \
                    as there:
                place.rows, place.bytes = _measure(there, tables)
        except RuleViolation as exc:
            place.error = exc.message
        found.append(place)
    return found


def _measure(conn, tables):
    rows = size = 0
    for table in tables:
        count, total = conn.execute(f"SELECT (SELECT count(*) FROM {table}), "
                                    f"pg_total_relation_size('{table}')").fetchone()
        rows, size = rows + count, size + total
    return rows, size


def replaced_foreign_keys():
    """The foreign keys onto records.id that ``jala shards init`` replaced, as they were."""
    return db.session.execute(select(ShardForeignKey).order_by(
        ShardForeignKey.table_name, ShardForeignKey.constraint_name)).scalars().all()
