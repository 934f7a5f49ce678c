"""A line break in what becomes an email's subject (a question's subject, a meeting's title)
must not make the email unsendable for ever: the send job must build it, or fail it cleanly
(reference: the answer; governance: the meeting notices, review finding G5)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.extensions import db
from jala.governance import meetings
from jala.jobs import OutboxEmail, _build_message, _send
from jala.reference import services as reference
from jala.reference.models import Question
from tests.support.factories import make_user
from tests.support.governance import CODES
from tests.support.reference import join_group
from tests.support.web import as_user, post_form


def test_answer_email_of_a_subject_with_crlf_can_be_built(client):
    reader = make_user(library="JXUFE")
    librarian = make_user(library="NCU", roles=("librarian",))
    join_group(librarian)
    as_user(client, reader)
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


def test_a_notice_whose_subject_cannot_be_built_fails_cleanly(committee):
    chair = committee["NCU"]
    meetings.convene_meeting(chair, title="Annual meeting\r\nBcc: someone@example.com",
                             starts_at=clock.now() + timedelta(days=3), place="NCU")
    rows = db.session.execute(select(OutboxEmail).where(
        OutboxEmail.kind == "governance.notice")).scalars().all()
    assert len(rows) == len(CODES)
    try:
        outcome = _send(rows[0].id)
    except ValueError as exc:
        # run_job rolls back: the row stays 'pending' with 0 attempts, the sweeper enqueues
        # it again every sweep, forever; it never shows as failed, nobody is told
        pytest.fail(f"the send job crashes on every attempt: {exc}")
    assert outcome in ("retry", "failed", "sent")
