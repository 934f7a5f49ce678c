"""Buckets move while readers search: no error, the same answers throughout, no record lost."""
import threading

from sqlalchemy import text

from jala.extensions import db
from jala.shards import services
from jala.shards.buckets import LOCAL, layout
from tests.shards.conftest import QUERIES, answers, catalogue_ids, differences


def test_rebalancing_while_searching_answers_every_search_the_same(coordinator, sharded):
    expected = sharded["answers"]
    seen, errors, done = [], [], threading.Event()

    def search_until_done():
        client = coordinator.test_client()
        with coordinator.app_context():
            while not done.is_set():
                try:
                    now = answers(client, QUERIES)
                except AssertionError as exc:  # a search that did not answer 200
                    errors.append(str(exc))
                    continue
                seen.append(differences(now, expected))

    reader = threading.Thread(target=search_until_done)
    reader.start()
    try:
        with coordinator.app_context():
            # three buckets come back to the primary, then go out to the shards again
            back = services.rebalance(keep_local=True)
            db.session.commit()
            middle = layout()
            out = services.rebalance()
            db.session.commit()
            ids = catalogue_ids()
            distinct = db.session.execute(text(
                "SELECT count(DISTINCT id) FROM records")).scalar()
    finally:
        done.set()
        reader.join(timeout=120)
    assert [m.target for m in back] == ["primary"] * 2
    assert sum(b.server is LOCAL for b in middle) == 2
    assert {m.source for m in out} == {"primary"} and len(out) == 2
    assert errors == []
    assert len(seen) >= 2 and not any(seen), seen
    assert ids == sharded["ids"] and distinct == len(ids)


def test_removing_a_shard_drains_it_and_adding_it_back_spreads_again(coordinator, sharded,
                                                                      shard_clusters):
    west = shard_clusters[1]
    with coordinator.app_context():
        drained = services.remove_shard("west")
        db.session.commit()
        alone = {b.server for b in layout()}
        with west.connect("catalogue") as conn:
            left_on_west = conn.execute("SELECT count(*) FROM pg_tables "
                                        "WHERE tablename LIKE 'records_b%'").fetchone()[0]
        services.add_shard(west.url("catalogue"), "west")
        db.session.commit()
        spread = services.rebalance()
        db.session.commit()
        assert catalogue_ids() == sharded["ids"]
        assert differences(answers(coordinator.test_client()), sharded["answers"]) == []
        names = [s.name for s in services.shards()]
    assert len(drained) == 4 and {m.target for m in drained} == {"east"}
    assert alone == {"shard_east"} and left_on_west == 0
    assert len(spread) == 4 and names == ["east", "west"]
