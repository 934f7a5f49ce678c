"""Emails to readers are written in the acting librarian's UI language, not the reader's."""
from sqlalchemy import select

from jala.extensions import db
from jala.jobs import OutboxEmail
from jala.loans import cards
from tests.support.factories import make_user
from tests.support.web import login, post_form


def test_a_reader_who_never_chose_english_gets_the_card_email_in_chinese(client):
    # loans/services.py email_reader -> accounts.user_locale(reader): reader.locale is None
    # unless the reader pressed the language switch while logged in, so the email falls back
    # to get_locale() of the *request*, i.e. the librarian's English UI. The portal's
    # language is Simplified Chinese; the reader never asked for English.
    reader = make_user(library="JXUFE")
    assert reader.locale is None
    card = cards.apply_for_card(reader)
    librarian = make_user(library="JXUFE", roles=("librarian",))
    post_form(client, "/language", {"lang": "en"})  # the librarian reads the UI in English
    assert login(client, librarian).status_code == 303
    response = post_form(client, f"/loans/cards/{card.id}/approve", {"at": "JXUFE"},
                         token_from="/libraries/JXUFE/cards")
    assert response.status_code == 303
    email = db.session.execute(select(OutboxEmail).where(
        OutboxEmail.to_addr == reader.email)).scalar_one()
    assert email.subject == "您的馆际互借证已开通", email.subject
