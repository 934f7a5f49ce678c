"""Loans point at ``holdings.id``, but the importer deletes and re-creates a changed record's
holdings (jala/catalog/importer.py: ``DELETE FROM holdings WHERE source_record_id = ANY``)."""
import pytest

from jala.catalog.models import Holding
from jala.extensions import db
from jala.loans import holds, ill
from tests.support.catalog import import_lines
from tests.support.factories import add_record, copy_at, make_user


def _reimport_with_status(source_id, title, library, status):
    return import_lines([{"source_id": source_id, "title": title, "type": "book",
                          "holdings": [{"library": library, "status": status}]}],
                        library=library)


@pytest.mark.parametrize("cancelled", [False, True])
def test_a_lending_library_can_reimport_a_record_with_an_ill_request(ctx, cancelled):
    # ill_requests.holding_id -> holdings.id has no ON DELETE (migration 20261125_0200 line 124):
    # once a copy was ever requested by ILL, the lender's re-import of that record (e.g. the
    # copy's status changed to on_loan — exactly what the ILL causes) fails with a foreign-key
    # violation and aborts the whole import batch. union_loans.holding_id has the same FK.
    reader = make_user(library="JXUFE")
    record = add_record("rlr-reimport-1", ["NCU"], title="Re-import me")
    req = ill.request_loan(reader, copy_at(record, "NCU").id)
    if cancelled:  # even a request that is long over blocks every later re-import
        ill.cancel(reader, req.id)
    with db.session.begin_nested():
        _reimport_with_status("rlr-reimport-1", "Re-import me", "NCU", "on_loan")
    db.session.refresh(req)
    assert db.session.get(Holding, req.holding_id) is not None


def test_a_live_hold_keeps_its_copy_when_the_home_library_reimports(ctx):
    # holds.holding_id is ON DELETE SET NULL: the same re-import silently detaches every live
    # hold from its copy (the desk no longer sees which copy to put aside)
    reader = make_user(library="NCU")
    record = add_record("rlr-reimport-2", ["NCU"], title="Hold me")
    hold = holds.place_hold(reader, copy_at(record, "NCU").id)
    _reimport_with_status("rlr-reimport-2", "Hold me", "NCU", "on_loan")
    db.session.expire_all()
    hold = db.session.get(type(hold), hold.id)
    assert hold.holding_id is not None
