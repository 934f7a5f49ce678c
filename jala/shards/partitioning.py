"""Turning records into hash buckets: all on the primary, or straight onto the shards.

``jala shards init`` keeps every row, column, default, the id sequence, every index (per
bucket), trigger and statistics target. The foreign keys onto records.id are recorded in
``shard_foreign_keys`` and pointed at ``record_keys``, the ids alone, on the primary, which
the ``records_shard_keys`` trigger keeps in step: PostgreSQL refuses the unique index they
need on a table with foreign partitions.

When shards are registered already, the buckets go straight to them: each bucket's rows are
copied from the plain table to its shard (the shards in parallel), indexed there, checked,
and only then does the primary's one transaction swap the plain table for the partitioned
one, so the search indexes are never built twice. Writes wait meanwhile; reads go on.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from sqlalchemy import select, text

from jala.errors import RuleViolation
from jala.extensions import db
from jala.shards import remote
from jala.shards.buckets import (
    LOCAL,
    checksum,
    coordinator_connection,
    copy_rows,
    index_bucket_table,
    make_bucket_table,
    shape_of,
)
from jala.shards.models import Shard
from jala.shards.schema import (
    BUILD_MEMORY,
    KEY_TABLE,
    TABLE,
    bucket_name,
    foreign_keys_onto_records,
    index_definitions,
    install_key_table,
    is_partitioned,
    statistics_targets,
    trigger_definitions,
)

DEFAULT_BUCKETS = 16
# an empty table partitioned as records will be: its hash says which bucket a row belongs to
# before records itself is partitioned
HASH_KEY = f"{TABLE}_hash_key"


def partition_records(buckets=DEFAULT_BUCKETS, progress=print, keep_local=False):
    """Partition records into ``buckets`` by hash of id; returns how many records there are.

    The buckets go round the registered shards (and the primary with ``keep_local``, or
    when there is no shard), as ``jala shards rebalance`` would spread them.
    """
    if not 2 <= buckets <= 256:
        raise RuleViolation("buckets must be between 2 and 256")
    with db.engine.connect() as connection:
        if is_partitioned(connection):
            raise RuleViolation("records is already partitioned (jala shards init has run)")
    shards = db.session.execute(select(Shard).order_by(Shard.name)).scalars().all()
    locations = [shard.server_name for shard in shards]
    if keep_local or not locations:
        locations.append(LOCAL)
    placement = [locations[r % len(locations)] for r in range(buckets)]
    remote_buckets = {r: server for r, server in enumerate(placement) if server is not LOCAL}
    addresses = {s.server_name: (s.conninfo, remote.mapped_password(s.server_name))
                 for s in shards}
    made = []  # (server, table) made on shards: dropped again if anything fails
    if remote_buckets:
        with db.engine.begin() as connection:
            connection.execute(text(f"CREATE TABLE IF NOT EXISTS {HASH_KEY} (id bigint) "
                                    f"PARTITION BY HASH (id)"))
    try:
        with db.engine.begin() as conn:
            conn.execute(text(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE"))
            if is_partitioned(conn):  # by another init while this one waited for the lock
                raise RuleViolation("records is already partitioned (jala shards init has run)")
            copied = _copy_to_shards(buckets, remote_buckets, addresses, made, progress)
            total, kept = _convert(conn, buckets, placement, progress)
            if total != kept + sum(copied.values()):
                raise RuleViolation(f"{total:,} records, but {kept:,} kept and "
                                    f"{sum(copied.values()):,} copied; nothing was changed")
        progress(f"{total:,} records: {sum(copied.values()):,} on the shards, "
                 f"{kept:,} on the primary")
    except BaseException:
        for server, table in made:
            with remote.connect(*addresses[server], autocommit=True) as there:
                there.execute(f"DROP TABLE IF EXISTS {table}")
        raise
    finally:
        if remote_buckets:
            with db.engine.begin() as connection:
                connection.execute(text(f"DROP TABLE IF EXISTS {HASH_KEY}"))
    started = time.perf_counter()
    with db.engine.begin() as connection:
        connection.execute(text(f"ANALYZE {TABLE}"))
    progress(f"ANALYZE {TABLE}: {time.perf_counter() - started:.1f} s")
    return total


def _in_bucket(modulus, remainder, key=HASH_KEY):
    return f"satisfies_hash_partition('{key}'::regclass, {modulus}, {remainder}, id)"


def _copy_to_shards(buckets, remote_buckets, addresses, made, progress):
    """Copy each remote bucket's rows from the plain table to its shard: ``{bucket: rows}``.

    One thread per shard, each taking its buckets in turn: copy, index, check, commit.
    """
    if not remote_buckets:
        return {}
    app = current_app._get_current_object()
    lock = threading.Lock()
    copied = {}

    def fill(server, remainders):
        with app.app_context():
            for remainder in remainders:
                name = bucket_name(remainder)
                shape = shape_of(name, name)
                reader = coordinator_connection()
                started = time.perf_counter()
                try:
                    with remote.connect(*addresses[server]) as there:
                        make_bucket_table(there, name, shape)
                        there.commit()
                        with lock:
                            made.append((server, name))
                        where = _in_bucket(buckets, remainder)
                        copy_rows(reader, TABLE, there, name, shape.names, where)
                        index_bucket_table(there, name, name, shape)
                        expected = checksum(reader, TABLE, shape.names, where)
                        if checksum(there, name, shape.names) != expected:
                            raise RuleViolation(f"{name}: the copy on {server} differs")
                        there.commit()
                finally:
                    reader.close()
                with lock:
                    copied[remainder] = expected[0]
                    progress(f"{name} → {server}: {expected[0]:,} records in "
                             f"{time.perf_counter() - started:.1f} s")

    by_server = {}
    for remainder, server in sorted(remote_buckets.items()):
        by_server.setdefault(server, []).append(remainder)
    with ThreadPoolExecutor(len(by_server)) as pool:
        for future in [pool.submit(fill, server, remainders)
                       for server, remainders in by_server.items()]:
            future.result()
    return copied


def _convert(conn, buckets, placement, progress):
    """In the caller's transaction, records becomes the partitioned table.

    Returns ``(records, how many of them stay on the primary)``.
    """
    conn.execute(text("SELECT set_config('maintenance_work_mem', :mem, true)"),
                 {"mem": BUILD_MEMORY})
    keys = foreign_keys_onto_records(conn)
    indexes = index_definitions(conn)
    triggers = trigger_definitions(conn)
    targets = statistics_targets(conn)
    sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                            {"t": TABLE}).scalar()
    for table, column, name, on_delete, definition in keys:
        progress(f"foreign key {table}.{name} ({on_delete}) now references {KEY_TABLE}")
        conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        conn.execute(text(
            "INSERT INTO shard_foreign_keys (table_name, column_name, constraint_name, "
            "on_delete, definition, replaced_at) VALUES (:t, :c, :n, :o, :d, now())"),
            {"t": table, "c": column, "n": name, "o": on_delete, "d": definition})
    if sequence:
        conn.execute(text(f"ALTER SEQUENCE {sequence} OWNED BY NONE"))
    old = f"{TABLE}_unpartitioned"
    conn.execute(text(f"ALTER TABLE {TABLE} RENAME TO {old}"))
    conn.execute(text(
        f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED) PARTITION BY HASH (id)"))
    for remainder, server in enumerate(placement):
        bound = f"FOR VALUES WITH (MODULUS {buckets}, REMAINDER {remainder})"
        name = bucket_name(remainder)
        if server is LOCAL:
            conn.execute(text(f"CREATE TABLE {name} PARTITION OF {TABLE} {bound}"))
        else:
            conn.execute(text(
                f"CREATE FOREIGN TABLE {name} PARTITION OF {TABLE} {bound} SERVER {server} "
                f"{remote.options_sql({'schema_name': 'public', 'table_name': name})}"))
    total = conn.execute(text(f"SELECT count(*) FROM {old}")).scalar()
    local = [r for r, server in enumerate(placement) if server is LOCAL]
    kept = 0
    if len(local) == buckets:
        kept = conn.execute(text(f"INSERT INTO {TABLE} SELECT * FROM {old}")).rowcount
    for remainder in local if len(local) < buckets else ():
        kept += conn.execute(text(
            f"INSERT INTO {bucket_name(remainder)} SELECT * FROM {old} "
            f"WHERE {_in_bucket(buckets, remainder, TABLE)}")).rowcount
    install_key_table(conn, source=old)
    conn.execute(text(f"DROP TABLE {old}"))
    if sequence:
        conn.execute(text(f"ALTER SEQUENCE {sequence} OWNED BY {TABLE}.id"))
    for remainder in local:
        name = bucket_name(remainder)
        conn.execute(text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_pkey PRIMARY KEY (id)"))
    for name, definition in indexes:
        if local:
            progress(f"building {name} in the primary's buckets")
        conn.execute(text(definition))
    for column, target in targets.items():
        conn.execute(text(f'ALTER TABLE {TABLE} ALTER COLUMN "{column}" '
                          f"SET STATISTICS {target}"))
    for definition in triggers:
        conn.execute(text(definition))
    return total, kept
