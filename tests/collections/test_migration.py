"""The special collections migration's downgrade takes the union records items made with it."""
from sqlalchemy import create_engine, text

from tests.support.app import migrate

BEFORE = "d1b2c3e4f504"  # the revision before special collections


def _record(conn, title, extra):
    return conn.execute(text(
        "INSERT INTO records (type, title, title_key, extra, search_vector, title_vector, "
        "search_text, created_at, updated_at) VALUES ('book', :t, :t, CAST(:extra AS jsonb), "
        "to_tsvector('simple', :t), to_tsvector('simple', :t), :t, now(), now()) RETURNING id"),
        {"t": title, "extra": extra}).scalar_one()


def _source(conn, record_id, library_id, source_id):
    source = conn.execute(text(
        "INSERT INTO source_records (library_id, source_id, record_id, format, raw, "
        "content_hash, imported_at, updated_at) VALUES (:lib, :sid, :rid, 'jsonl', '{}', 'x', "
        "now(), now()) RETURNING id"),
        {"lib": library_id, "sid": source_id, "rid": record_id}).scalar_one()
    conn.execute(text(
        "INSERT INTO holdings (record_id, library_id, source_record_id, status, updated_at) "
        "VALUES (:rid, :lib, :sid, 'available', now())"),
        {"rid": record_id, "lib": library_id, "sid": source})


def test_the_downgrade_removes_the_records_items_made_and_their_keys(postgres):
    url, name = postgres.create("jala_collections_downgrade")
    engine = create_engine(url)
    try:
        migrate(url)
        with engine.begin() as conn:
            ncu, jxau = conn.execute(text(
                "SELECT id FROM libraries WHERE code IN ('NCU', 'JXAU') ORDER BY code DESC"
            )).scalars().all()
            collection = '{"special_collection": "1", "special_collection_title": "红色文献"}'
            alone = _record(conn, "item only", collection)
            _source(conn, alone, ncu, "special-collections:item:1")
            joined = _record(conn, "item and a book", '{"other": 1, ' + collection[1:])
            _source(conn, joined, ncu, "special-collections:item:2")
            _source(conn, joined, jxau, "jxau-42")
            conn.execute(text("UPDATE records SET holdings_count = 2, library_ids = :libs "
                              "WHERE id = :id"), {"libs": [ncu, jxau], "id": joined})
            plain = _record(conn, "a book", '{}')
            _source(conn, plain, jxau, "jxau-43")
        migrate(url, BEFORE, direction="downgrade")
        with engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(text(
                "SELECT id, extra, holdings_count, library_ids FROM records"))}
            assert alone not in rows and plain in rows
            assert rows[joined].extra == {"other": 1}
            assert (rows[joined].holdings_count, rows[joined].library_ids) == (1, [jxau])
            assert conn.execute(text(
                "SELECT count(*) FROM source_records WHERE source_id LIKE 'special-%'"
            )).scalar() == 0
        migrate(url)  # and up again
    finally:
        engine.dispose()
        postgres.drop(name)
