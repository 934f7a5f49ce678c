"""The search indexes of the buckets on the shards, for bulk loads (``jala import --bulk``).

A bulk load drops the search indexes of records and builds them after the load. On the
primary that is the partitioned parent's indexes (PostgreSQL drops and builds them in every
local bucket); a bucket on a shard has indexes of its own there, which these functions drop
and build alike, server by server. Without shards there is no foreign bucket and nothing to do.
"""
import time

from sqlalchemy.schema import CreateIndex

from jala.extensions import db
from jala.shards import remote
from jala.shards.buckets import LOCAL, layout, shard_by_server
from jala.shards.schema import bucket_index_name, for_bucket


def _buckets_by_server():
    with db.engine.connect() as connection:
        buckets = layout(connection)
    by_server = {}
    for bucket in buckets:
        if bucket.server is not LOCAL:
            by_server.setdefault(bucket.server, []).append(bucket)
    return by_server


def _connect(server):
    shard = shard_by_server(server)
    return remote.connect(shard.conninfo, remote.mapped_password(server), autocommit=True)


def drop_bucket_indexes(index_names):
    """Drop these indexes of records in every bucket on a shard."""
    for server, buckets in _buckets_by_server().items():
        with _connect(server) as there:
            for bucket in buckets:
                for name in index_names:
                    there.execute(f"DROP INDEX IF EXISTS "
                                  f"{bucket_index_name(bucket.remote_table, name)}")


def build_missing_bucket_indexes(indexes, maintenance_work_mem="1GB", progress=None):
    """Build the indexes (SQLAlchemy ``Index``es of records) missing in buckets on shards.

    Returns ``[(name, seconds)]``, one entry per index and shard.
    """
    built = []
    for server, buckets in _buckets_by_server().items():
        with _connect(server) as there:
            there.execute("SELECT set_config('maintenance_work_mem', %s, false)",
                          (maintenance_work_mem,))
            present = {row[0] for row in there.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s)",
                ([b.remote_table for b in buckets],))}
            for index in indexes:
                definition = str(CreateIndex(index).compile(dialect=db.engine.dialect))
                missing = [b for b in buckets
                           if bucket_index_name(b.remote_table, index.name) not in present]
                if not missing:
                    continue
                if progress:
                    progress(f"{index.name} on {server}")
                started = time.perf_counter()
                for bucket in missing:
                    there.execute(for_bucket(definition, bucket.remote_table))
                built.append((f"{index.name} on {server}", time.perf_counter() - started))
    return built
