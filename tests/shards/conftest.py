"""A sharded catalogue of the tests' own: a coordinator database and two shard clusters.

The coordinator is a migrated database of the package's own on the test server, with a few
thousand records imported; the shards are ``LocalCluster``s. ``before`` holds the answers of
the one-node catalogue to ``QUERIES``; ``sharded`` then runs ``init``, ``add`` twice and
``rebalance`` once for the whole package. Each test leaves the buckets spread as it found them.
"""
import io
import itertools
import json
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from jala.catalog.importer import import_stream
from jala.catalog.readers import open_records
from jala.extensions import db
from jala.shards import services
from jala.shards.partitioning import partition_records
from tests.support.app import make_app, migrate
from tests.support.catalog import DEMO
from tests.support.pg_clusters import LocalCluster, require_pg_bin

BUCKETS = 8
# (library, first line, last line) of the demo's CSL records: the NCU file repeats 300 lines
IMPORTS = (("JXUFE", 0, 1800), ("NCU", 1500, 3000), ("ECJTU", 3000, 3400))
# one query of each class the search has, each one the search answers completely (a common
# word's first page is the best of its first 300 matches in scan order; see test_sharding)
QUERIES = (
    {"q": "控制器"},                                     # words
    {"q": '"姿态控制"'},                                 # a phrase
    {"q": "kongzhiqi"},                                  # pinyin
    {"q": "控制", "library": "NCU"},                     # filtered by library
    {"q": "控制", "type": "thesis", "year_from": 2000},  # by type and year
    {"q": "系统", "year_from": 1990, "year_to": 1999},
    {"q": "控制"},                                       # a word's first page
    {"q": "控制", "page": 2},                            # and its second
    {"q": "系统", "sort": "year"},                       # newest first
    {"q": "系统", "sort": "year", "page": 3},
    {"q": "飞行器控制系统设讣"},                          # the forgiving search (a slip)
    {"q": "", "library": "ECJTU"},                       # a filter-only listing
)


def demo_lines(first, last):
    with open(DEMO / "csl-dev.jsonl", encoding="utf-8") as lines:
        return [line for line in itertools.islice(lines, first, last) if line.strip()]


def import_committed(lines, library, source_prefix=""):
    """Import JSON lines for ``library``, committing each batch (as ``jala import`` does)."""
    if source_prefix:
        lines = [json.dumps(dict(record, source_id=source_prefix + record["source_id"]),
                            ensure_ascii=False) for record in map(json.loads, lines)]
    data = ("\n".join(lines) + "\n").encode()
    _, items, fmt = open_records(io.BytesIO(data), "test.jsonl")
    return import_stream(items, library, format_name=fmt, batch_size=500)


def answers(client, queries=QUERIES):
    """``{query: (ids of the page, total, relation)}`` from the JSON API."""
    found = {}
    for query in queries:
        response = client.get("/api/v1/search", query_string=query)
        assert response.status_code == 200, (query, response.get_data(as_text=True))
        body = response.get_json()
        found[json.dumps(query, ensure_ascii=False)] = (
            [hit["id"] for hit in body["hits"]], body["total"], body["total_relation"])
    return found


def differences(now, one_node):
    """The queries answered otherwise than one node did: other ids, or another total.

    An exact total must be the same; a lower bound ("at least", read from the first 3,000
    rows in scan order, which the buckets' order changes) only has to be one.
    """
    return [query for query, (ids, total, relation) in now.items()
            if (ids, relation) != one_node[query][::2]
            or (total != one_node[query][1] if relation == "eq" else total < len(ids))]


def catalogue_ids():
    return db.session.execute(text("SELECT array_agg(id ORDER BY id) FROM records")).scalar()


@pytest.fixture(scope="package")
def shard_clusters():
    require_pg_bin()
    clusters = []
    try:
        for name in ("shard-a", "shard-b"):
            cluster = LocalCluster(name)
            clusters.append(cluster)
            cluster.init().start()
            cluster.create_database("catalogue")
        yield clusters
    finally:
        for cluster in clusters:
            cluster.remove()


@contextmanager
def coordinator_app(postgres, redis_service, smtp, instance, imports=IMPORTS):
    """The app on a migrated database of its own, with the demo's records (then dropped)."""
    url, name = postgres.create("jala_shards")
    migrate(url)
    app = make_app(url, redis_service, smtp, instance)
    try:
        with app.app_context():
            for library, first, last in imports:
                import_committed(demo_lines(first, last), library)
            # the demo's CSL records are undated articles: years and a second type to filter on
            db.session.execute(text(
                "UPDATE records SET year = 1980 + (id * 7) % 45, "
                "type = CASE WHEN id % 5 = 0 THEN 'thesis' ELSE type END"))
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
        postgres.drop(name)


@pytest.fixture(scope="package")
def coordinator(postgres, redis_service, smtp, tmp_path_factory):
    with coordinator_app(postgres, redis_service, smtp,
                         tmp_path_factory.mktemp("shards")) as app:
        yield app


@pytest.fixture(scope="package")
def sharded(coordinator, shard_clusters):
    """The one-node answers and ids, then the catalogue spread over the two shards."""
    app = coordinator
    with app.app_context():
        before = {"answers": answers(app.test_client()), "ids": catalogue_ids()}
        db.session.rollback()  # what the session read holds records, which init locks
        partition_records(BUCKETS, progress=lambda line: None)
        for cluster, name in zip(shard_clusters, ("east", "west"), strict=True):
            services.add_shard(cluster.url("catalogue"), name)
        db.session.commit()
        before["moves"] = services.rebalance()
        db.session.commit()
    return before
