from sqlalchemy import select

from jala.catalog import batches
from jala.catalog.copy_format import TsvectorDumper
from jala.catalog.models import Holding, Record, SourceRecord
from jala.extensions import db
from jala.search.indexing import build_document
from jala.search.tokens import (
    FIELD_GAP,
    BinaryTsvector,
    VectorBuilder,
    binary_tsvectors,
    positioned_lexemes,
)
from tests.support.catalog import import_lines, records_titled

FIELDS = {"title": "中国图书馆学报：图书馆与图书馆学研究 TiO2 2019", "authors": ["王伟", "李 娜"],
          "keywords": ["图书馆", "图书馆", "信息检索"], "isbn_list": ["9787111111113"],
          "publisher": "国家图书馆出版社", "abstract": "图书馆。" * 300 + " GPS and TiO2 again"}


def stored(*columns):
    return db.session.execute(select(*columns).order_by(columns[0])).all()


def test_binary_tsvectors_are_the_same_as_the_text_literals(ctx):
    text = build_document(FIELDS)
    with binary_tsvectors():
        binary = build_document(FIELDS)
    assert isinstance(binary["search_vector"], BinaryTsvector)
    connection = db.session.connection().connection.driver_connection
    cur = connection.cursor()
    cur.adapters.register_dumper(BinaryTsvector, TsvectorDumper)
    for name in ("search_vector", "title_vector"):
        cur.execute("SELECT %b::text = %s::tsvector::text", (binary[name], text[name]))
        assert cur.fetchone() == (True,)
    # a lexeme keeps at most 255 positions either way
    cur.execute("SELECT length(%b), length(%s::tsvector)",
                (binary["search_vector"], text["search_vector"]))
    assert len(set(cur.fetchone())) == 1


def test_builder_made_outside_the_block_writes_text():
    with binary_tsvectors():
        pass
    builder = VectorBuilder()
    builder.add_text("图书馆", "A")
    assert builder.literal() == "'图':1A '图书':1A '书':2A '书馆':2A '馆':3A"


def test_a_record_repeated_two_batches_later_is_skipped_and_named(ctx):
    # the pool prepares two batches ahead of the one being written
    batch = [{"source_id": f"r{i}", "title": f"重复{i}"} for i in range(100)]
    other = [{"source_id": f"o{i}", "title": f"其他{i}"} for i in range(100)]
    stats = import_lines(batch + other + batch[:80] + [dict(r, title="改了") for r in batch[80:]],
                         batch_size=100, workers=2)
    assert (stats.created, stats.skipped, stats.read) == (200, 100, 300)
    assert stats.errors[0]["position"] == 201
    assert stats.errors[0]["reason"].startswith("duplicate source_id 'r0': line 1 has it too")
    assert not records_titled("改了") and len(records_titled("重复85")) == 1


def isbn13(n):
    digits = f"978711{n:06d}"
    return digits + str(-sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(digits)) % 10)


def test_rows_are_the_same_with_and_without_per_row_foreign_key_checks(ctx, monkeypatch):
    first = [{"source_id": f"a{i}", "title": f"联合目录{i}", "isbn": isbn13(i),
              "authors": ["张三"], "year": 2001,
              "holdings": [{"library": "NCU", "call_number": f"G{i}"}, {}]} for i in range(80)]
    joining = [dict(r, source_id=f"b{i}") for i, r in enumerate(first)]
    import_lines(first, batch_size=40, workers=2)
    import_lines(joining, library="ECJTU", batch_size=40, workers=2)
    skipped = (stored(Record.id, Record.holdings_count, Record.library_ids),
               stored(SourceRecord.id, SourceRecord.record_id, SourceRecord.library_id),
               stored(Holding.record_id, Holding.library_id, Holding.call_number))
    role = db.session.execute(db.text("SHOW session_replication_role")).scalar()
    assert role == "origin" and len(skipped[0]) == 80 and skipped[0][0][1] == 3

    db.session.execute(db.text("DELETE FROM records"))
    monkeypatch.setattr(batches, "_may_skip_checks", lambda cur: False)
    import_lines(first, batch_size=40, workers=2)
    import_lines(joining, library="ECJTU", batch_size=40, workers=2)
    checked = (stored(Record.id, Record.holdings_count, Record.library_ids),
               stored(SourceRecord.id, SourceRecord.record_id, SourceRecord.library_id),
               stored(Holding.record_id, Holding.library_id, Holding.call_number))
    shift = checked[0][0][0] - skipped[0][0][0]
    source_shift = checked[1][0][0] - skipped[1][0][0]
    assert [(r - shift, n, libs) for r, n, libs in checked[0]] == skipped[0]
    assert [(s - source_shift, r - shift, lib) for s, r, lib in checked[1]] == skipped[1]
    assert [(r - shift, lib, call) for r, lib, call in checked[2]] == skipped[2]


def test_a_record_gone_before_the_batch_is_written_is_still_caught(ctx):
    # the rows a batch points at are locked once; a missing one falls back to the usual checks
    cur = db.session.connection().connection.driver_connection.cursor()
    with batches._references_held(cur, {10**12}, set()):
        role = cur.execute("SHOW session_replication_role").fetchone()[0]
    assert role == "origin"


def test_one_pass_tokenising_adds_what_positioned_lexemes_gives():
    # VectorBuilder.add_text tokenises and adds in one pass; positioned_lexemes stays the rule
    texts = ["中国_图书馆 学报：TiO2 与 GPS", "图书馆" * 100, " ".join(["w"] * 16380) + " 中国人",
             "中国" * 9000]
    for text in texts:
        one_pass, two_pass = VectorBuilder(False), VectorBuilder(False)
        for weight in "AD":
            one_pass.add_text(text, weight, normalized=True)
            pairs, end = positioned_lexemes(text, two_pass.position)
            two_pass._add(pairs, weight)
            two_pass.position = end + FIELD_GAP
        assert one_pass.literal() == two_pass.literal()
