"""Document delivery: rules that can be side-stepped, and pages that leak or crash."""
import pytest
from sqlalchemy import select

from jala.delivery import services as delivery
from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from jala.membership import is_member
from tests.support.factories import add_record, make_user
from tests.support.web import as_user, post_form

# --- D1: the kind is the reader's choice, so a book escapes the page and share limits

@pytest.mark.parametrize("kind", ["other", "article"])
def test_a_book_record_asked_for_as_another_kind_escapes_the_page_limits(ctx, reader, kind):
    book = add_record("rv-book-1", ["NCU"], title="A whole book", page_count=400)
    # as book_part this is refused: 400 pages > 50 per request, > 20 % of the book
    with pytest.raises(RuleViolation):
        delivery.submit_request(reader, kind="book_part", title=book.title,
                                record_id=book.id, pages="1-400")
    # the same record, the whole book, with kind=other (or article): nothing is checked
    with pytest.raises(RuleViolation):
        delivery.submit_request(reader, kind=kind, title=book.title, record_id=book.id,
                                pages="1-400")


def test_whole_book_requests_as_other_are_unlimited_per_week(ctx, reader):
    book = add_record("rv-book-2", ["NCU"], title="Another book", page_count=100)
    accepted = 0
    for _ in range(3):
        try:
            delivery.submit_request(reader, kind="other", title=book.title, record_id=book.id,
                                    pages="1-100")
            accepted += 1
        except RuleViolation:
            pass
    # copyright allows 20 pages of this book per reader per week
    assert accepted == 0


# --- D2: staff of any library later in the rota read the request (reader, note, timeline)

def test_a_library_never_asked_cannot_read_the_request(ctx, reader):
    book = add_record("rv-book-3", ["NCU", "ECJTU", "JXAU"], title="Three holders",
                      page_count=300)
    req = delivery.submit_request(reader, kind="book_part", title=book.title, record_id=book.id,
                                  pages="1-5", note="private note: my thesis on X")
    assert len(req.rota) == 3 and req.rota_position == 0
    later = req.rota[2]  # not asked yet, maybe never
    from jala.accounts.models import Library
    code = db.session.get(Library, later).code
    outsider = make_user(library=code, roles=("librarian",))
    with pytest.raises(NotFound):
        delivery.get_request_for_staff(outsider, req.id)


# --- D3: str.isdigit() accepts superscript digits, int() does not: 500s

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


# --- D4: a library that has left keeps taking and filling requests

def test_a_library_that_has_left_cannot_accept_a_request_waiting_there(ctx, reader):
    from jala import clock
    from jala.membership import get_library

    book = add_record("rv-book-5", ["NCU", "ECJTU"], title="Left", page_count=300)
    req = delivery.submit_request(reader, kind="book_part", title=book.title, record_id=book.id,
                                  pages="1-5")
    library = db.session.get(__import__("jala.accounts.models", fromlist=["Library"]).Library,
                             req.library_id)
    staff = make_user(library=library.code, roles=("librarian",))
    library.left_on = clock.local_today()  # revoked by the committee today (or withdrew)
    db.session.flush()
    assert not is_member(get_library(library.code))
    with pytest.raises(RuleViolation):
        delivery.accept_request(staff, req.id)


# --- D5: the reader's email is in the language of whichever librarian clicked

def test_the_readers_email_language_does_not_depend_on_the_librarian(app, db_session):
    from jala.jobs import OutboxEmail

    subjects = []
    for n, lang in enumerate(("en", "zh_Hans")):
        with app.test_request_context(f"/?lang={lang}"):
            from flask import g
            for name in list(g):  # a real request gets a fresh g (and Babel locale)
                g.pop(name)
            book = add_record(f"rv-lang-{n}", ["NCU"], title="Language", page_count=300)
            reader = make_user(library="JXUFE")  # never chose a language: locale is None
            staff = make_user(library="NCU", roles=("librarian",))
            req = delivery.submit_request(reader, kind="book_part", title=book.title,
                                          record_id=book.id, pages="1-5")
            delivery.reject_request(staff, req.id, "Missing volume", final=True)
            row = db.session.execute(select(OutboxEmail).where(
                OutboxEmail.kind == "delivery.refused", OutboxEmail.to_addr == reader.email)
            ).scalar_one()
            subjects.append(row.subject)
    assert subjects[0] == subjects[1], subjects
