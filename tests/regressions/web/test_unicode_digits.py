"""Inputs that pass ``str.isdigit()`` but not ``int()`` ("²", "①"…) get a 4xx, not a 500.

``"²".isdigit()`` is True, ``int("²")`` raises ValueError. Parsers of ids, months and years in
the query string and in forms trusted ``isdigit()`` before ``int()``: in reference, reading and
loans, and in document delivery (review finding D3).
"""
from datetime import timedelta

import pytest

from jala import clock
from jala.extensions import db
from jala.loans import cards
from jala.loans.models import UnionLoan
from jala.reading.models import SavedList
from tests.support.factories import add_record, make_user
from tests.support.web import as_user, post_form

SUPERSCRIPT_TWO = "\u00b2"  # "²": isdigit() is True, int() raises


# --- reference, reading and loans -----------------------------------------------------------

def test_public_faq_page_number_superscript_is_not_a_500(client):
    # jala/reference/routes.py faq_search: int(page) if page.isdigit() ...
    response = client.get(f"/reference/faq?page={SUPERSCRIPT_TWO}")
    assert response.status_code < 500


def test_reference_stats_months_superscript_is_not_a_500(client):
    # jala/reference/routes.py _stats_rows: int(months) if months.isdigit() ...
    staff = make_user(library="NCU", roles=("librarian",))
    as_user(client, staff)
    response = client.get(f"/reference/stats?months={SUPERSCRIPT_TWO}")
    assert response.status_code < 500


def test_record_cite_page_with_superscript_id_is_a_404(client):
    # jala/reading/routes.py cite -> jala/catalog/service.py get_record (isdigit -> int)
    response = client.get(f"/records/{SUPERSCRIPT_TWO}/cite")
    assert response.status_code == 404


def test_saving_to_list_superscript_id_is_not_a_500(client):
    # jala/reading/routes.py save_record -> _parse_id(form.list_id.data, 10)
    record = add_record("rlr-digits-1", ["NCU"], title="Unicode digits")
    as_user(client, make_user(library="JXUFE"))
    response = post_form(client, "/lists/save",
                         {"record_id": str(record.id), "list_id": SUPERSCRIPT_TWO})
    assert response.status_code < 500


def test_removing_superscript_record_from_list_is_not_a_500(client):
    # jala/reading/routes.py remove_record -> _parse_id(record_id)
    record = add_record("rlr-digits-2", ["NCU"], title="Unicode digits 2")
    as_user(client, make_user(library="JXUFE"))
    assert post_form(client, "/lists/save", {"record_id": str(record.id)}).status_code == 303
    saved = db.session.query(SavedList).order_by(SavedList.id.desc()).first()
    response = post_form(client, f"/lists/{saved.id}/records/{SUPERSCRIPT_TWO}/remove", {})
    assert response.status_code < 500


def test_union_lend_with_superscript_record_reference_is_a_form_error(client):
    # jala/loans/union.py find_record: reference.isdigit() -> int(reference)
    reader = make_user(library="JXUFE")
    card = cards.apply_for_card(reader)
    card.status = "approved"
    card.valid_until = clock.local_today() + timedelta(days=30)
    db.session.flush()
    staff = make_user(library="NCU", roles=("librarian",))
    as_user(client, staff)
    response = post_form(client, "/libraries/NCU/union/lend",
                         {"card_code": card.code, "item_barcode": "B-1",
                          "record": SUPERSCRIPT_TWO}, token_from="/libraries/NCU/union")
    assert response.status_code == 400
    assert db.session.query(UnionLoan).count() == 0


# --- document delivery ---------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/delivery/new?record=%C2%B2",          # ?record=²
    "/delivery/new?again=%C2%B2",           # ?again=²
])
def test_superscript_digits_in_the_query_are_not_a_500(client, path):
    as_user(client, make_user(library="JXUFE"))
    assert client.get(path).status_code < 500


def test_superscript_months_on_the_stats_page_are_not_a_500(client):
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    assert client.get("/delivery/stats?months=%C2%B2").status_code < 500


def test_a_superscript_record_id_in_the_request_form_is_not_a_500(client):
    book = add_record("rv-book-4", ["NCU"], title="Superscript", page_count=300)
    as_user(client, make_user(library="JXUFE"))
    response = post_form(client, "/delivery/new", {
        "record_id": "\u00b2", "kind": "book_part", "title": book.title, "pages": "1-5"},
        token_from="/delivery/new")
    assert response.status_code < 500


def test_a_superscript_year_on_the_journal_list_is_not_a_500(client):
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    response = post_form(client, "/libraries/NCU/journals", {
        "one-issn": "0317-8471", "one-title": "J", "one-year_from": "\u00b9\u2079\u2079\u2079",
        "one-year_to": ""}, token_from="/libraries/NCU/journals")
    assert response.status_code < 500


def test_superscript_ids_in_a_bulk_action_are_not_a_500(client):
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    response = post_form(client, "/libraries/NCU/delivery/bulk", {
        "action": "accept", "ids": ["\u00b2"], "reason": ""},
        token_from="/libraries/NCU/delivery")
    assert response.status_code < 500
