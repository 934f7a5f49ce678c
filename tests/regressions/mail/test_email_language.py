"""Emails to readers must be written in the reader's language, not in the UI language of the
librarian whose click sent them (loans: the card email; document delivery: the refusal, review
finding D5)."""
from flask import g
from sqlalchemy import select

from jala.delivery import services as delivery
from jala.extensions import db
from jala.jobs import OutboxEmail
from jala.loans import cards
from tests.support.factories import add_record, make_user
from tests.support.web import as_user, post_form


def test_a_reader_who_never_chose_english_gets_the_card_email_in_chinese(client):
    # loans/services.py email_reader -> accounts.user_locale(reader): reader.locale is None
    # unless the reader pressed the language switch while logged in, so the email falls back
    # to get_locale() of the *request*, i.e. the librarian's English UI. The portal's
    # language is Simplified Chinese; the reader never asked for English.
    reader = make_user(library="JXUFE")
    assert reader.locale is None
    card = cards.apply_for_card(reader)
    librarian = make_user(library="JXUFE", roles=("librarian",))
    as_user(client, librarian)  # the librarian reads the UI in English
    response = post_form(client, f"/loans/cards/{card.id}/approve", {"at": "JXUFE"},
                         token_from="/libraries/JXUFE/cards")
    assert response.status_code == 303
    email = db.session.execute(select(OutboxEmail).where(
        OutboxEmail.to_addr == reader.email)).scalar_one()
    assert email.subject == "您的馆际互借证已开通", email.subject


def test_the_readers_email_language_does_not_depend_on_the_librarian(app, db_session):
    subjects = []
    for n, lang in enumerate(("en", "zh_Hans")):
        with app.test_request_context(f"/?lang={lang}"):
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
