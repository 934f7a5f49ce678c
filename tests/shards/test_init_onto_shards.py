"""Shards added before ``init``: the buckets go straight to them, the primary keeps none."""
from sqlalchemy import text

from jala.extensions import db
from jala.shards import services
from jala.shards.buckets import layout
from jala.shards.partitioning import partition_records
from tests.shards.conftest import answers, catalogue_ids, coordinator_app, differences


def test_init_with_shards_spreads_the_buckets_at_once(postgres, redis_service, smtp, tmp_path,
                                                       shard_clusters):
    for cluster in shard_clusters:
        cluster.create_database("straight")
    imports = (("JXUFE", 0, 500), ("NCU", 400, 800))
    with coordinator_app(postgres, redis_service, smtp, tmp_path, imports) as app, \
            app.app_context():
        before, ids = answers(app.test_client()), catalogue_ids()
        for cluster, name in zip(shard_clusters, ("north", "south"), strict=True):
            services.add_shard(cluster.url("straight"), name)
        db.session.commit()
        assert partition_records(6, progress=lambda line: None) == len(ids)
        buckets = layout()
        assert services.plan() == []  # spread as rebalance would spread them
        assert catalogue_ids() == ids
        assert db.session.execute(text("SELECT count(DISTINCT id) FROM records")).scalar() \
            == len(ids)
        assert differences(answers(app.test_client()), before) == []
        db.session.rollback()
    assert sorted(b.server for b in buckets) == ["shard_north"] * 3 + ["shard_south"] * 3
