"""The catalogue hash-partitioned over two real shards answers as the one-node catalogue did."""
import threading

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from jala.catalog.bulk import build_missing_search_indexes, drop_search_indexes
from jala.extensions import db
from jala.loans.models import Hold
from jala.search.trigram import similar, word_like
from jala.shards import services
from jala.shards.buckets import layout
from jala.shards.schema import KEY_TABLE, KEY_TRIGGER, TABLE
from tests.shards.conftest import (
    BUCKETS,
    answers,
    catalogue_ids,
    demo_lines,
    differences,
    import_committed,
)
from tests.support.factories import make_user


def shard_rows(cluster):
    """How many records the shard's bucket tables hold, counted on the shard itself."""
    with cluster.connect("catalogue") as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'records_b%'")]
        return sum(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                   for table in tables)


def test_every_bucket_lives_on_a_shard_four_each(coordinator, sharded):
    with coordinator.app_context():
        buckets = layout()
    assert len(buckets) == BUCKETS
    assert sorted(b.server for b in buckets) == ["shard_east"] * 4 + ["shard_west"] * 4
    assert [(b.modulus, b.remainder) for b in buckets] == [(BUCKETS, r) for r in range(BUCKETS)]
    assert sum(move.rows for move in sharded["moves"]) == len(sharded["ids"])


def test_no_record_is_lost_or_doubled(coordinator, sharded, shard_clusters):
    with coordinator.app_context():
        ids = catalogue_ids()
        distinct = db.session.execute(text("SELECT count(DISTINCT id) FROM records")).scalar()
    assert ids == sharded["ids"] and distinct == len(ids)
    assert sum(shard_rows(cluster) for cluster in shard_clusters) == len(ids)


def test_searches_give_the_same_ids_and_totals_as_one_node(coordinator, sharded):
    with coordinator.app_context():
        now = answers(coordinator.test_client())
    assert now.keys() == sharded["answers"].keys()
    assert differences(now, sharded["answers"]) == []
    assert all(total for _ids, total, _relation in now.values())  # each query finds some


def test_indexes_triggers_and_statistics_are_kept_on_every_bucket(coordinator, sharded,
                                                                   shard_clusters):
    with coordinator.app_context():
        parent = set(db.session.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'records'")).scalars())
        triggers = set(db.session.execute(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'records'::regclass")).scalars())
        target = db.session.execute(text(
            "SELECT attstattarget FROM pg_attribute WHERE attrelid = 'records'::regclass "
            "AND attname = 'search_vector'")).scalar()
        default = db.session.execute(text(
            "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = "
            "'records'::regclass AND adnum = 1")).scalar()
    assert {"ix_records_search_vector", "ix_records_pinyin_key_trgm", "ix_records_doi_lower",
            "ix_records_special_collection", "ix_records_year_id"} <= parent
    assert {"oai_tombstones_on_delete", "oai_tombstones_on_update", KEY_TRIGGER} <= triggers
    assert target == 1000 and "records_id_seq" in default
    with shard_clusters[0].connect("catalogue") as conn:
        bucket = conn.execute("SELECT min(tablename) FROM pg_tables "
                              "WHERE tablename LIKE 'records_b%'").fetchone()[0]
        there = {row[0].removeprefix(bucket + "_") for row in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s", (bucket,))}
    assert {name.removeprefix("ix_records_") for name in parent} | {"pkey"} == there


def test_a_record_page_shows_its_holdings(coordinator, sharded):
    with coordinator.app_context():
        record_id, library = db.session.execute(text(
            "SELECT h.record_id, l.code FROM holdings h JOIN libraries l ON l.id = h.library_id "
            "WHERE l.code = 'NCU' ORDER BY h.record_id LIMIT 1")).one()
        client = coordinator.test_client()
        page = client.get(f"/records/{record_id}")
        body = client.get(f"/api/v1/records/{record_id}").get_json()
    assert page.status_code == 200
    assert library in {h["library"] for h in body["holdings"]}


def test_deleting_a_record_cascades_as_the_foreign_keys_did(coordinator, sharded):
    with coordinator.app_context():
        record_id = db.session.execute(text(
            "SELECT max(record_id) FROM holdings")).scalar()
        db.session.execute(text("DELETE FROM records WHERE id = :id"), {"id": record_id})
        left = db.session.execute(text(
            "SELECT (SELECT count(*) FROM holdings WHERE record_id = :id), "
            "(SELECT count(*) FROM source_records WHERE record_id = :id), "
            "(SELECT count(*) FROM oai_deletions WHERE record_id = :id)"),
            {"id": record_id}).one()
        db.session.rollback()
    assert tuple(left) == (0, 0, 2)  # gone from the catalogue and from its library's set


def test_a_record_with_a_hold_cannot_be_deleted(coordinator, sharded):
    with coordinator.test_request_context("/"):
        record_id = db.session.execute(text("SELECT min(record_id) FROM holdings")).scalar()
        reader = make_user(library="JXUFE")
        db.session.add(Hold(reader_id=reader.id, record_id=record_id,
                            library_id=reader.home_library_id))
        db.session.flush()
        with pytest.raises(Exception, match='on table "holds"'):
            with db.session.begin_nested():
                db.session.execute(text("DELETE FROM records WHERE id = :id"),
                                   {"id": record_id})
        db.session.rollback()


def test_a_reference_to_a_missing_record_is_refused_on_insert_and_update(coordinator, sharded):
    with coordinator.test_request_context("/"):
        existing, missing = db.session.execute(text(
            "SELECT min(record_id), max(record_id) + 1000000 FROM holdings")).one()
        reader = make_user(library="JXUFE")
        hold = Hold(reader_id=reader.id, record_id=missing, library_id=reader.home_library_id)
        with pytest.raises(IntegrityError, match=rf"\(record_id\)=\({missing}\) is not present"):
            with db.session.begin_nested():
                db.session.add(hold)
                db.session.flush()
        hold = Hold(reader_id=reader.id, record_id=existing,
                    library_id=reader.home_library_id)
        db.session.add(hold)
        db.session.flush()  # a record on a shard: accepted
        with pytest.raises(IntegrityError, match="is not present in table \"record_keys\""):
            with db.session.begin_nested():
                db.session.execute(text("UPDATE holds SET record_id = :id WHERE id = :hold"),
                                   {"id": missing, "hold": hold.id})
        db.session.rollback()


def test_the_replaced_foreign_keys_are_recorded(coordinator, sharded):
    with coordinator.app_context():
        keys = {(k.table_name, k.on_delete) for k in services.replaced_foreign_keys()}
    assert {("holdings", "CASCADE"), ("source_records", "CASCADE"),
            ("delivery_requests", "SET NULL"), ("holds", "NO ACTION")} <= keys


def test_an_import_lands_on_the_shards_and_is_found(coordinator, sharded, shard_clusters):
    before = sum(shard_rows(cluster) for cluster in shard_clusters)
    lines = demo_lines(5000, 5200)
    with coordinator.app_context():
        try:
            stats = import_committed(lines, "JXAU", source_prefix="late-")
            title = db.session.execute(text(
                "SELECT r.title FROM records r JOIN source_records s ON s.record_id = r.id "
                "WHERE s.source_id LIKE 'late-%' ORDER BY r.id DESC LIMIT 1")).scalar()
            found = coordinator.test_client().get("/api/v1/search", query_string={
                "q": title, "library": "JXAU"}).get_json()
            landed = sum(shard_rows(cluster) for cluster in shard_clusters)
        finally:  # through the coordinator, their holdings and sources with them
            db.session.execute(text(
                "DELETE FROM records WHERE id IN (SELECT record_id FROM source_records "
                "WHERE source_id LIKE 'late-%')"))
            db.session.commit()
        assert db.session.execute(text(
            "SELECT count(*) FROM holdings h JOIN libraries l ON l.id = h.library_id "
            "WHERE l.code = 'JXAU'")).scalar() == 0
    assert stats.created == 200 and landed == before + 200
    assert title in [hit["title"] for hit in found["hits"]]
    assert sum(shard_rows(cluster) for cluster in shard_clusters) == before
    with coordinator.app_context():  # record_keys followed the records in and out
        assert db.session.execute(text(f"SELECT array_agg(id ORDER BY id) FROM {KEY_TABLE}")
                                  ).scalar() == catalogue_ids()


def test_analyze_reads_the_statistics_the_search_asks_for(coordinator, sharded):
    with coordinator.app_context():
        db.session.execute(text(f"ANALYZE {TABLE}"))
        size = db.session.execute(text(
            "SELECT reltuples FROM pg_class WHERE relname = 'records'")).scalar()
        count = db.session.execute(text("SELECT count(*) FROM records")).scalar()
        lexemes = db.session.execute(text(
            "SELECT cardinality(most_common_elems::text::text[]) FROM pg_stats "
            "WHERE tablename = 'records' AND attname = 'title_vector'")).scalar()
        db.session.commit()
    assert size == count and lexemes > 100


def bucket_indexes(cluster):
    with cluster.connect("catalogue") as conn:
        return {row[0] for row in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename LIKE 'records_b%'")}


def test_a_bulk_load_drops_and_builds_the_indexes_of_the_buckets_on_shards(
        coordinator, sharded, shard_clusters):
    before = bucket_indexes(shard_clusters[0])
    with coordinator.app_context():
        dropped = drop_search_indexes()
        during = bucket_indexes(shard_clusters[0])
        built = build_missing_search_indexes()
    assert not any(name.endswith(index.removeprefix("ix_records")) for name in during
                   for index in dropped)
    assert any(name.endswith("_pkey") for name in during)
    assert {name for name, _seconds in built} >= {"ix_records_search_vector",
                                                  "ix_records_search_vector on shard_east"}
    assert bucket_indexes(shard_clusters[0]) == before


def test_the_search_conditions_are_evaluated_on_the_shards(coordinator, sharded):
    with coordinator.app_context():
        plan = "\n".join(db.session.execute(text(
            "EXPLAIN (VERBOSE) SELECT id FROM records WHERE search_vector @@ "
            "CAST('控制' AS tsquery) AND type = ANY('{thesis}') AND library_ids && '{1}' "
            "AND year >= 2000 LIMIT 300")).scalars())
        db.session.rollback()
    remote = [line for line in plan.splitlines() if "Remote SQL" in line]
    assert len(remote) == BUCKETS and plan.count("Async Foreign Scan") == BUCKETS
    assert all("search_vector @@" in line and "type = ANY" in line and "library_ids &&" in line
               and "year >= 2000" in line for line in remote)


def test_trigram_conditions_are_evaluated_on_the_shards(coordinator, sharded):
    """The did-you-mean and the latin/spelling relaxations' pg_trgm conditions go to the shards
    (a shard would otherwise send every row of its buckets to be filtered here)."""
    with coordinator.app_context():
        plan = "\n".join(db.session.execute(text(
            f"EXPLAIN (VERBOSE) SELECT id FROM records WHERE "
            f"{word_like(':q', 'search_text', 0.5)} OR {similar('pinyin_key', ':p', 0.6)}"),
            {"q": "contrl", "p": "kongzhiqi"}).scalars())
        db.session.rollback()
    remote = [line for line in plan.splitlines() if "Remote SQL" in line]
    assert len(remote) == BUCKETS
    assert all("<%" in line and "word_similarity(" in line and "similarity(" in line
               for line in remote), remote[0]
    assert "Filter:" not in plan  # nothing is left to filter on the coordinator


def test_a_query_that_finds_nothing_answers_without_reading_the_catalogue(coordinator, sharded):
    with coordinator.app_context():
        rows = db.session.execute(text(
            f"EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) SELECT title FROM records WHERE "
            f"{word_like(':q', 'search_text', 0.5)} LIMIT 1"), {"q": "qqqzzzxxwvv"}).scalar()
        db.session.rollback()
    top = rows[0]["Plan"]
    assert top["Actual Rows"] == 0
    scans = top["Plans"][0]["Plans"]
    assert len(scans) == BUCKETS and all(scan["Actual Rows"] == 0 for scan in scans)
    assert not any(scan.get("Rows Removed by Filter") for scan in scans)


def _holding_on_a_shard(coordinator):
    """``(url, record id, library id)`` of a holding whose record is in a remote bucket."""
    with coordinator.app_context():
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        remote = [b.remainder for b in layout() if b.server]
        record_id, library_id = db.session.execute(text(
            "SELECT record_id, library_id FROM holdings WHERE satisfies_hash_partition("
            "'records'::regclass, :modulus, :remainder, record_id) ORDER BY id LIMIT 1"),
            {"modulus": BUCKETS, "remainder": remote[0]}).one()
        db.session.rollback()
    return url, record_id, library_id


def test_a_new_reference_waits_neither_for_its_record_nor_for_a_bucket_move(coordinator,
                                                                           sharded):
    """A record being updated (the importer's holdings count), or records locked as a move
    locks them: a new holding of it is written at once, as with a foreign key on one node."""
    url, record_id, library_id = _holding_on_a_shard(coordinator)
    insert = ("INSERT INTO holdings (record_id, library_id, status, updated_at) "
              "VALUES (%s, %s, 'available', now())")
    for blocker in (f"UPDATE records SET holdings_count = holdings_count WHERE id = {record_id}",
                    "LOCK TABLE records IN EXCLUSIVE MODE"):
        with psycopg.connect(url) as other, psycopg.connect(url) as writer:
            other.execute(blocker)
            writer.execute("SET lock_timeout = '2s'")
            writer.execute(insert, (record_id, library_id))
            writer.rollback()
            other.rollback()


def test_a_delete_waits_for_a_new_reference_and_then_takes_it_along(coordinator, sharded):
    """Insert a holding of a record on a shard, uncommitted; a delete of that record waits for
    it (the foreign key's lock on record_keys) and its cascade then removes the new holding."""
    url, record_id, library_id = _holding_on_a_shard(coordinator)
    deleted = {}

    def delete_it():
        with psycopg.connect(url) as deleter:
            deleted["rows"] = deleter.execute("DELETE FROM records WHERE id = %s",
                                              (record_id,)).rowcount
            deleted["left"] = deleter.execute(
                "SELECT count(*) FROM holdings WHERE record_id = %s", (record_id,)).fetchone()[0]
            deleter.rollback()

    with psycopg.connect(url) as inserter:
        new_id = inserter.execute(
            "INSERT INTO holdings (record_id, library_id, status, updated_at) "
            "VALUES (%s, %s, 'available', now()) RETURNING id", (record_id, library_id)
        ).fetchone()[0]
        deleting = threading.Thread(target=delete_it)
        deleting.start()
        deleting.join(1.0)
        assert deleting.is_alive()  # waits for the inserting transaction
        inserter.commit()
        deleting.join(30)
        try:
            assert (deleted["rows"], deleted["left"]) == (1, 0)  # the new holding went too
        finally:
            inserter.execute("DELETE FROM holdings WHERE id = %s", (new_id,))
            inserter.commit()


def test_what_record_keys_could_not_follow_is_refused(coordinator, sharded):
    """A record changing its id (in its bucket or into another) and TRUNCATE: refused, as a
    foreign key onto records would refuse them."""
    with coordinator.app_context():
        first, last = db.session.execute(text("SELECT min(id), max(id) FROM records")).one()
        for statement in (f"UPDATE records SET id = {last + 1} WHERE id = {first}",
                          f"UPDATE records SET id = -id WHERE id = {first}",
                          "TRUNCATE records"):
            with pytest.raises(IntegrityError, match="is refused: other tables refer"):
                with db.session.begin_nested():
                    db.session.execute(text(statement))
        db.session.execute(text(f"UPDATE records SET id = id WHERE id = {first}"))  # unchanged
        db.session.rollback()
        assert catalogue_ids() == sharded["ids"]
