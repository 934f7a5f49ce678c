"""Moves that would drop the rows they copy are refused, and nothing is changed."""
import pytest

from jala.errors import RuleViolation
from jala.extensions import db
from jala.shards import partitioning, services
from jala.shards.buckets import layout, move_bucket
from tests.shards.conftest import BUCKETS, catalogue_ids


def test_a_move_planned_before_another_moved_the_bucket_changes_nothing(coordinator, sharded):
    with coordinator.app_context():
        stale = layout()[0]
        other = next(s.server_name for s in services.shards() if s.server_name != stale.server)
        move_bucket(stale, other)  # another rebalance, run first
        with pytest.raises(RuleViolation, match="has moved since"):
            move_bucket(stale, other)
        ids = catalogue_ids()
        db.session.rollback()  # what it read holds records, which the move back swaps
        move_bucket(next(b for b in layout() if b.name == stale.name), stale.server)
        assert layout()[0] == stale
    assert ids == sharded["ids"]


def test_a_shard_registered_twice_cannot_take_its_own_buckets(coordinator, sharded,
                                                              shard_clusters):
    twin_url = shard_clusters[0].url("catalogue").replace("127.0.0.1", "localhost")
    with coordinator.app_context():
        twin = services.add_shard(twin_url, "twin").server_name
        db.session.commit()
        try:
            original = services.get_shard("east").server_name
            bucket = next(b for b in layout() if b.server == original)
            with pytest.raises(RuleViolation, match="one database"):
                move_bucket(bucket, twin)
            ids = catalogue_ids()
            db.session.rollback()
        finally:
            services.remove_shard("twin")
            db.session.commit()
    assert ids == sharded["ids"]


def test_the_primary_cannot_be_added_as_a_shard(coordinator, sharded):
    with coordinator.app_context():
        with pytest.raises(RuleViolation, match="primary's own"):
            services.add_shard(coordinator.config["DATABASE_URL"], "itself")
        db.session.rollback()
        assert [s.name for s in services.shards()] == ["east", "west"]


def test_an_init_that_waited_for_another_one_changes_nothing(coordinator, sharded, monkeypatch):
    real, calls = partitioning.is_partitioned, []

    def plain_until_locked(connection):
        calls.append(connection)
        return len(calls) > 1 and real(connection)

    monkeypatch.setattr(partitioning, "is_partitioned", plain_until_locked)
    with coordinator.app_context():
        before = layout()
        with pytest.raises(RuleViolation, match="already partitioned"):
            partitioning.partition_records(BUCKETS, progress=lambda line: None)
        assert layout() == before
        assert catalogue_ids() == sharded["ids"]
        db.session.rollback()
