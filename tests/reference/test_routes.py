"""Reference pages over HTTP: asking, the thread with HTMX, CSRF, no IDOR, the FAQ, statistics."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.extensions import db
from jala.jobs import OutboxEmail
from jala.reference import faq
from jala.reference import services as reference
from jala.reference.models import Question
from tests.support.factories import make_user
from tests.support.files import PDF, PNG, Upload
from tests.support.web import HTMX, as_user, other_client, post_form


def questions_of(user):
    return db.session.execute(select(Question).where(Question.asker_id == user.id)).scalars().all()


def ask(client, subject="查收查引", body="请问怎么开具论文收录证明？", upload=None):
    data = {"subject": subject, "body": body}
    if upload is not None:
        data["attachment"] = upload
    return post_form(client, "/reference/ask", data, token_from="/reference/ask",
                     content_type="multipart/form-data")


@pytest.fixture
def question(reader, group):
    """A question with a PDF, asked through the service."""
    return reference.ask_question(reader, subject="查收查引", body="请问怎么开具论文收录证明？",
                                  upload=Upload(PDF, "论文.pdf"))


# --- asking -----------------------------------------------------------------------------------

def test_a_visitor_is_sent_to_log_in(client):
    response = client.get("/reference/ask")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_reader_asks_with_an_attachment_and_sees_the_thread(client, reader):
    as_user(client, reader)
    response = ask(client, upload=(io.BytesIO(PDF), "论文.pdf"))
    assert response.status_code == 303
    [question] = questions_of(reader)
    assert response.headers["Location"].endswith(f"/reference/questions/{question.id}")
    page = client.get(f"/reference/questions/{question.id}").get_data(as_text=True)
    assert "查收查引" in page and "请问怎么开具论文收录证明？" in page
    assert "waiting for a librarian" in page and "论文.pdf" in page
    listing = client.get("/reference/questions").get_data(as_text=True)
    assert f"/reference/questions/{question.id}" in listing


def test_a_file_that_is_not_a_pdf_or_picture_is_refused_on_the_form(client, reader):
    as_user(client, reader)
    response = ask(client, upload=(io.BytesIO(b"MZ\x90\x00 an exe"), "paper.pdf"))
    assert response.status_code == 400
    assert "not a valid PDF, PNG, JPEG, WEBP file" in response.get_data(as_text=True)
    assert questions_of(reader) == []


def test_an_unverified_reader_is_told_why_they_cannot_ask(client):
    user = make_user(library="JXUFE", verified=False)
    as_user(client, user)
    page = client.get("/reference/ask").get_data(as_text=True)
    assert "not been verified" in page and 'name="subject"' not in page
    assert ask(client).status_code == 400 and questions_of(user) == []


def test_a_post_without_the_csrf_token_is_refused(client, reader):
    as_user(client, reader)
    response = client.post("/reference/ask", data={"subject": "x", "body": "y"})
    assert response.status_code == 400
    assert questions_of(reader) == []


# --- no IDOR --------------------------------------------------------------------------------

def test_another_reader_finds_nothing_of_a_question(client, question):
    as_user(client, make_user(library="JXUFE"))
    message_id = question.messages[0].id
    assert client.get(f"/reference/questions/{question.id}").status_code == 404
    assert client.get(f"/reference/questions/{question.id}/attachments/{message_id}"
                      ).status_code == 404
    for step in ("reply", "close", "claim", "answer", "release"):
        response = post_form(client, f"/reference/questions/{question.id}/{step}",
                             {"body": "我也来"}, token_from="/reference/questions")
        assert response.status_code in (403, 404), step
    assert len(question.messages) == 1 and question.status == "open"


def test_a_librarian_outside_the_group_finds_nothing(client, question, group):
    as_user(client, group["outsider"])
    assert client.get(f"/reference/questions/{question.id}").status_code == 404
    assert client.get("/reference/desk").status_code == 403
    response = post_form(client, f"/reference/questions/{question.id}/claim", {},
                         headers=HTMX)
    assert response.status_code == 403
    assert question.claimed_by_id is None


def test_attachments_come_through_a_short_lived_signed_link(client, question, reader, group):
    message_id = question.messages[0].id
    as_user(client, reader)
    response = client.get(f"/reference/questions/{question.id}/attachments/{message_id}")
    assert response.status_code == 302
    link = response.headers["Location"]
    assert re.match(r"^/files/[\w.\-]+$", link)
    with client.get(link) as download:
        assert download.status_code == 200 and download.data == PDF
    # a group member of another library may open it too
    librarian = other_client(client, group["ecjtu"])
    response = librarian.get(f"/reference/questions/{question.id}/attachments/{message_id}")
    with librarian.get(response.headers["Location"]) as download:
        assert download.data == PDF
    # the link itself expires soon
    clock.advance(timedelta(minutes=11))
    assert client.get(link).status_code == 410


def test_a_picture_is_shown_inline_through_a_signed_view_url(client, reader, group):
    question = reference.ask_question(reader, subject="截图", body="这个报错是什么意思？",
                                      upload=Upload(PNG, "error.png"))
    as_user(client, reader)
    page = client.get(f"/reference/questions/{question.id}").get_data(as_text=True)
    src = re.search(r'<img src="(/files/view/[^"]+)"', page).group(1)
    with client.get(src) as image:
        assert image.status_code == 200 and image.data == PNG
        assert image.headers["Content-Type"] == "image/png"


# --- the thread with HTMX -------------------------------------------------------------------

def test_a_librarian_claims_from_the_desk_with_htmx(client, question, group):
    as_user(client, group["ecjtu"])
    desk = client.get("/reference/desk").get_data(as_text=True)
    assert f'id="q-{question.id}"' in desk
    response = post_form(client, f"/reference/questions/{question.id}/claim", {},
                         headers={**HTMX, "HX-Target": f"q-{question.id}"},
                         token_from="/reference/desk")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<li class="queue-item"')
    assert "Taken on by ECJTU Librarian (East China Jiaotong University)" in body
    assert question.claimed_by_id == group["ecjtu"].id


def test_a_lost_claim_shows_the_reason_in_the_card(client, question, group):
    reference.claim_question(group["ncu"], question.id)
    as_user(client, group["ecjtu"])
    response = post_form(client, f"/reference/questions/{question.id}/claim", {},
                         headers={**HTMX, "HX-Target": f"q-{question.id}"},
                         token_from="/reference/desk")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "already been claimed by NCU Librarian (Nanchang University Library)" in body
    assert 'role="alert"' in body
    # without HTMX: the whole page, with the reason and the status
    response = post_form(client, f"/reference/questions/{question.id}/claim", {},
                         token_from="/reference/desk")
    assert response.status_code == 409
    assert "already been claimed" in response.get_data(as_text=True)


def test_the_claimant_answers_with_htmx_and_the_reader_is_emailed(client, question, group,
                                                                  reader):
    as_user(client, group["ecjtu"])
    page = f"/reference/questions/{question.id}"
    post_form(client, f"{page}/claim", {}, token_from=page)
    response = post_form(client, f"{page}/answer",
                         {"body": "请到“查收查引”栏目提交委托。",
                          "attachment": (io.BytesIO(PNG), "guide.png")},
                         headers={**HTMX, "HX-Target": "question"}, token_from=page,
                         content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<section class="card')
    assert "请到“查收查引”栏目提交委托。" in body and 'data-status="answered"' in body
    assert "guide.png" in body
    mail = db.session.execute(select(OutboxEmail).where(
        OutboxEmail.to_addr == reader.email)).scalar_one()
    assert re.search(rf"https?://\S+/reference/questions/{question.id}\b", mail.body_text)


def test_an_empty_htmx_reply_shows_the_reason_and_keeps_nothing(client, question, reader):
    as_user(client, reader)
    page = f"/reference/questions/{question.id}"
    response = post_form(client, f"{page}/reply", {"body": ""},
                         headers={**HTMX, "HX-Target": "question"}, token_from=page,
                         content_type="multipart/form-data")
    assert response.status_code == 200 and 'role="alert"' in response.get_data(as_text=True)
    assert len(question.messages) == 1


def test_the_reader_replies_without_javascript(client, question, reader, group):
    reference.answer_question(group["ncu"], question.id, "需要哪几篇论文？")
    as_user(client, reader)
    page = f"/reference/questions/{question.id}"
    response = post_form(client, f"{page}/reply", {"body": "三篇，见附件。",
                                                   "attachment": (io.BytesIO(PDF), "list.pdf")},
                         token_from=page, content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    assert question.messages[-1].body == "三篇，见附件。"
    assert question.messages[-1].attachment.original_name == "list.pdf"
    assert db.session.execute(select(OutboxEmail).where(
        OutboxEmail.to_addr == group["ncu"].email, OutboxEmail.kind == "reference.reply")
    ).scalar_one()


def test_the_reader_closes_the_question(client, question, reader):
    as_user(client, reader)
    page = f"/reference/questions/{question.id}"
    response = post_form(client, f"{page}/close", {}, headers={**HTMX, "HX-Target": "question"},
                         token_from=page)
    body = response.get_data(as_text=True)
    assert 'data-status="closed"' in body and 'name="body"' not in body


def test_desk_tabs_swap_the_list(client, question, group):
    reference.claim_question(group["ncu"], question.id)
    as_user(client, group["ncu"])
    response = client.get("/reference/desk?tab=mine", headers={**HTMX, "HX-Target": "desk-list"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="desk-list">') and f'id="q-{question.id}"' in body
    unclaimed = client.get("/reference/desk?tab=unclaimed").get_data(as_text=True)
    assert f'id="q-{question.id}"' not in unclaimed and "<html" in unclaimed


# --- the FAQ ----------------------------------------------------------------------------------

def test_a_librarian_publishes_an_anonymised_faq_entry(client, question, group, reader):
    reference.answer_question(group["ncu"], question.id,
                              f"{reader.display_name}同学：请到“查收查引”栏目提交委托。")
    as_user(client, group["ecjtu"])
    page = f"/reference/questions/{question.id}/faq"
    form = client.get(page).get_data(as_text=True)
    assert "请到“查收查引”栏目提交委托。" in form and reader.display_name not in form
    response = post_form(client, page, {"faq_question": "怎么开具论文收录证明？",
                                        "faq_answer": "请到“查收查引”栏目提交委托。"},
                         token_from=page)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/reference/faq/{question.id}")
    visitor = client.application.test_client()
    entry = visitor.get(f"/reference/faq/{question.id}").get_data(as_text=True)
    assert "怎么开具论文收录证明？" in entry and reader.display_name not in entry
    assert "Nanchang University" in entry or "南昌大学" in entry


def test_a_reader_cannot_publish(client, question, reader, group):
    reference.answer_question(group["ncu"], question.id, "答复")
    as_user(client, reader)
    page = f"/reference/questions/{question.id}/faq"
    assert client.get(page).status_code == 403
    response = post_form(client, page, {"faq_question": "q", "faq_answer": "a"},
                         token_from=f"/reference/questions/{question.id}")
    assert response.status_code == 403
    assert question.faq_published_at is None


def test_the_public_faq_searches_live_with_htmx(client, question, group):
    reference.answer_question(group["ncu"], question.id, "答复")
    faq.publish(group["ncu"], question.id, "怎么开具论文收录证明？", "请到查收查引栏目提交委托。")
    visitor = client.application.test_client()
    page = visitor.get("/reference/faq?q=收錄證明")  # Traditional
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert f"/reference/faq/{question.id}" in page.get_data(as_text=True)
    partial = visitor.get("/reference/faq?q=shoulu zhengming", headers=HTMX)
    body = partial.get_data(as_text=True)
    assert "<html" not in body and f"/reference/faq/{question.id}" in body
    nothing = visitor.get("/reference/faq?q=<script>alert(1)</script>", headers=HTMX)
    assert "<script>alert" not in nothing.get_data(as_text=True)
    assert "empty-results" in nothing.get_data(as_text=True)


def test_an_unpublished_question_is_not_in_the_public_faq(client, question):
    visitor = client.application.test_client()
    assert visitor.get(f"/reference/faq/{question.id}").status_code == 404


# --- statistics -------------------------------------------------------------------------------

def test_statistics_page_and_csv_for_staff_only(client, question, group):
    clock.advance(timedelta(hours=2))
    reference.answer_question(group["ncu"], question.id, "答复")
    as_user(client, group["outsider"])  # any staff member may read the statistics
    page = client.get("/reference/stats?library=NCU&months=1").get_data(as_text=True)
    assert 'data-library="NCU"' in page
    everyone = client.get("/reference/stats").get_data(as_text=True)
    assert 'data-library="ALL"' in everyone and "<svg" in everyone
    csv_text = client.get("/reference/stats.csv?months=1").get_data(as_text=True)
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0] == "month,library,questions,answered,escalated,median_first_response_hours"
    assert any(line.startswith(f"{clock.local_today():%Y-%m},NCU,") for line in lines)
    reader_client = other_client(client, make_user())
    assert reader_client.get("/reference/stats").status_code == 403
    assert reader_client.get("/reference/stats.csv").status_code == 403
