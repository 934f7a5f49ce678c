"""A question's subject with a line break makes the answer's email unsendable, for ever."""
from sqlalchemy import select

from jala.extensions import db
from jala.jobs import OutboxEmail, _build_message
from jala.reference import services as reference
from jala.reference.models import Question
from tests.regressions.reading_loans_reference.conftest import join_reference_group
from tests.support.factories import make_user
from tests.support.web import login, post_form


def test_answer_email_of_a_subject_with_crlf_can_be_built(client):
    reader = make_user(library="JXUFE")
    librarian = make_user(library="NCU", roles=("librarian",))
    join_reference_group(librarian)
    post_form(client, "/language", {"lang": "en"})
    assert login(client, reader).status_code == 303
    # a crafted POST (the browser's <input> would strip it, curl does not)
    response = post_form(client, "/reference/ask",
                         {"subject": "Help\r\nBcc: someone@example.com", "body": "?"},
                         token_from="/reference/ask", content_type="multipart/form-data")
    assert response.status_code == 303  # accepted as is
    question = db.session.execute(
        select(Question).where(Question.asker_id == reader.id)).scalar_one()
    assert "\n" in question.subject  # reference.required_text() keeps inner newlines

    reference.answer_question(librarian, question.id, "Here is how.")
    row = db.session.execute(select(OutboxEmail).where(
        OutboxEmail.to_addr == reader.email, OutboxEmail.kind == "reference.answer")).scalar_one()
    # jala/jobs.py _send() calls _build_message() and catches only OSError/SMTPException/
    # RuntimeError: the ValueError raised here rolls the job back, the row stays 'pending',
    # the sweeper re-enqueues it every 2 minutes and the reader never gets the answer.
    _build_message(row, "JALA <noreply@example.org>")
