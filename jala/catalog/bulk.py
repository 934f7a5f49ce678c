"""Bulk loads: a large import runs without the search indexes, which are built after it.

Keeping GIN indexes up to date row by row costs more than building them once over the loaded
table, so a first load of a big catalogue (`jala import --bulk`) drops the indexes that only
searches read, and builds them when the load ends (searching is slow meanwhile). The importer
keeps what it reads itself: the primary key and the match key. The definitions come from the
models, so a load that was killed before the build is mended by the next import. In a sharded
catalogue the buckets on other servers lose and regain their indexes alike (jala/shards/indexes.py).
"""
import time

from sqlalchemy import text
from sqlalchemy.schema import CreateIndex, DropIndex

from jala.catalog.models import Record
from jala.extensions import db
from jala.shards.indexes import build_missing_bucket_indexes, drop_bucket_indexes

READ_BY_THE_IMPORTER = {"ix_records_match_key"}


def search_indexes():
    """The indexes on records that searches read and the importer doesn't."""
    return [index for index in Record.__table__.indexes
            if index.name not in READ_BY_THE_IMPORTER]


def drop_search_indexes():
    """Drop the search indexes (committed); returns their names."""
    with db.engine.begin() as connection:
        for index in search_indexes():
            connection.execute(DropIndex(index, if_exists=True))
    names = [index.name for index in search_indexes()]
    drop_bucket_indexes(names)  # a sharded catalogue's buckets on other servers
    return names


def build_missing_search_indexes(maintenance_work_mem="1GB", progress=None):
    """Build the search indexes that are missing; returns ``[(name, seconds)]``.

    ``progress(name)`` is called before each build. Nothing is locked when none is missing.
    """
    with db.engine.connect() as connection:
        present = set(connection.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'records'")).scalars())
    missing = [index for index in search_indexes() if index.name not in present]
    built = []
    for index in missing:  # each committed as it is built
        if progress:
            progress(index.name)
        started = time.perf_counter()
        with db.engine.begin() as connection:
            connection.execute(text("SELECT set_config('maintenance_work_mem', :mem, true)"),
                               {"mem": maintenance_work_mem})
            connection.execute(CreateIndex(index, if_not_exists=True))
        built.append((index.name, time.perf_counter() - started))
    return built + build_missing_bucket_indexes(search_indexes(), maintenance_work_mem,
                                                progress)


def analyze_records():
    """ANALYZE the records now, not when autovacuum comes to a large load.

    The search reads the planner's statistics: how many records, how common each lexeme is.
    """
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE records"))
