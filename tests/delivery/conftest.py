import io

import pytest

from tests.catalog.conftest import import_lines
from tests.support.factories import make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Upload:
    """What Flask hands a view for an uploaded file (a stream and a name)."""

    def __init__(self, data, filename="scan.pdf"):
        self.stream = io.BytesIO(data)
        self.filename = filename


def add_record(source_id, holders, **fields):
    """Import one record held by ``holders`` (library codes); returns the union record."""
    from jala.catalog.models import SourceRecord
    from jala.extensions import db

    raw = {"source_id": source_id, "title": fields.pop("title", f"Record {source_id}"),
           "type": fields.pop("type", "book"),
           "holdings": [{"library": code, "status": "available"} for code in holders], **fields}
    import_lines([raw], library=holders[0])
    source = db.session.query(SourceRecord).filter_by(source_id=source_id).one()
    return source.record


@pytest.fixture
def ctx(app, db_session):
    """Service tests here read the rules' messages in English."""
    with app.test_request_context("/?lang=en"):
        yield app


@pytest.fixture
def reader(ctx):
    return make_user(library="JXUFE")


@pytest.fixture
def librarians(ctx):
    """One librarian at each of a few libraries, by code."""
    return {code: make_user(library=code, roles=("librarian",))
            for code in ("NCU", "ECJTU", "JXAU", "JXUFE")}
