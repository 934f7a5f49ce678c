"""The protocol doors served for real on loopback, over a committed catalogue of their own."""
import io
import json
from itertools import islice
from pathlib import Path

import pytest

from jala.catalog.importer import import_stream
from jala.catalog.readers import open_records
from jala.extensions import db
from tests.support.app import make_app, migrate
from tests.support.browser import serving
from tests.support.search import BOOKS

CSL = Path(__file__).resolve().parents[2] / "jala" / "demo" / "csl-dev.jsonl"  # ships with the app
CSL_RECORDS = 400  # real Chinese article titles, abstracts and keywords
EXTRA_BOOKS = [
    {"source_id": "x1", "title": "Pride and prejudice", "authors": ["Austen, Jane"],
     "year": 1813, "isbn": "978-0-14-143951-8", "publisher": "Penguin", "language": "eng",
     "place": "London"},
    {"source_id": "x2", "type": "article", "title": "图书馆联盟的资源共享", "authors": ["陈红"],
     "journal": "大学图书馆学报", "issn": "1002-1027", "volume": "36", "issue": "2",
     "pages": "15-21", "year": 2018, "doi": "10.16603/j.issn1002-1027.2018.02.003"},
]


def catalogue_lines():
    """The test catalogue: the search tests' books, two more, and real CSL articles."""
    lines = [json.dumps(r, ensure_ascii=False) for r in BOOKS + EXTRA_BOOKS]
    with CSL.open(encoding="utf-8") as handle:
        lines += [line.strip() for line in islice(handle, CSL_RECORDS)]
    return lines


@pytest.fixture(scope="package")
def served_catalogue(postgres, redis_service, smtp, tmp_path_factory):
    """``(base URL, app)``: the portal on loopback with the test catalogue committed."""
    url, name = postgres.create("jala_protocols")
    migrate(url)
    app = make_app(url, redis_service, smtp, tmp_path_factory.mktemp("protocols"))
    with app.app_context():
        data = ("\n".join(catalogue_lines()) + "\n").encode()
        _, items, fmt = open_records(io.BytesIO(data), "catalogue.jsonl")
        import_stream(items, "JXUFE", format_name=fmt)
    with serving(app) as base:
        yield base, app
    with app.app_context():
        db.engine.dispose()
    postgres.drop(name)


@pytest.fixture(scope="module")
def app_of_its_own(postgres, redis_service, smtp, tmp_path_factory):
    """An app on a database of the module's own: tests that list every record (a feed, an OAI
    harvest) see only their records, never those other tests committed in the shared one."""
    url, name = postgres.create("jala_protocols_module")
    migrate(url)
    app = make_app(url, redis_service, smtp, tmp_path_factory.mktemp("protocols_module"))
    yield app
    with app.app_context():
        db.engine.dispose()
    postgres.drop(name)
