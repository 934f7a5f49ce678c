"""Search index: importing and reindexing keep going on odd author names and odd ``extra``
values, rebuild what the importer built, and never overwrite a newer import (from the review of
the run-together pinyin and author pinyin changes)."""
import pytest
from sqlalchemy import text

from jala.extensions import db
from jala.search import indexing
from jala.search.engine import SearchRequest, search
from jala.search.indexing import reindex
from tests.support.catalog import import_lines
from tests.support.search import titles


def index_columns():
    return db.session.execute(text(
        "SELECT id, title_key, search_text, pinyin_key, search_vector::text, "
        "title_vector::text FROM records ORDER BY id")).all()


# --- romanize_name: a CJK character pypinyin cannot read ----------------------------------

def test_an_author_with_a_character_pypinyin_cannot_read_does_not_abort_the_import(ctx):
    # 㐂 (U+3402) is CJK Ext. A: CJK_RE matches it, lazy_pinyin(errors="ignore") gives ()
    stats = import_lines([{"source_id": "n1", "title": "某书", "authors": ["王㐂"]},
                          {"source_id": "n2", "title": "另一本书", "authors": ["李明"]}])
    assert stats.created == 2


# --- reindex and extra->'authors_pinyin' / extra->>'series' --------------------------------

@pytest.mark.parametrize("value", [True, 5])
def test_reindex_survives_a_non_list_authors_pinyin_in_extra(ctx, value):
    import_lines([{"source_id": "e1", "title": "湘军志", "authors": ["曾国藩"],
                   "authors_pinyin": value}])
    assert reindex() >= 1


@pytest.mark.parametrize("extra", [
    {"authors_pinyin": "Zeng Guofan"},        # a string, not a list: the importer ignores it
    {"series": ["丛书甲编", "Series B"]},      # a list, not a string: the importer ignores it
])
def test_reindex_rebuilds_what_the_importer_built(ctx, extra):
    import_lines([{"source_id": "e2", "title": "湘军志", "authors": ["曾国藩"], **extra}])
    before = index_columns()
    reindex()
    assert index_columns() == before


def test_reindex_does_not_overwrite_a_record_changed_while_its_batch_was_read(ctx, monkeypatch):
    import_lines([{"source_id": "c1", "title": "旧的标题"}])
    real, done = indexing.build_document, []

    def concurrently_reimported(fields):
        if not done:  # an import commits a new title between reindex's SELECT and UPDATE
            done.append(True)
            import_lines([{"source_id": "c1", "title": "崭新题名"}])
        return real(fields)

    monkeypatch.setattr(indexing, "build_document", concurrently_reimported)
    reindex()
    assert titles(search(SearchRequest(q="崭新题名"))) == ["崭新题名"]
