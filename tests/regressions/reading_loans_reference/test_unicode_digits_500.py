"""Inputs that pass ``str.isdigit()`` but not ``int()`` ("²", "①"…) give a 500, not a 4xx.

``"²".isdigit()`` is True, ``int("²")`` raises ValueError. Several parsers in scope trust
``isdigit()`` before ``int()``.
"""
from datetime import timedelta

from jala import clock
from jala.extensions import db
from jala.loans import cards
from jala.loans.models import UnionLoan
from jala.reading.models import SavedList
from tests.support.factories import add_record, make_user
from tests.support.web import as_user, post_form

SUPERSCRIPT_TWO = "\u00b2"  # "²": isdigit() is True, int() raises


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
