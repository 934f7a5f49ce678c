"""At 360 px: a reader asks a librarian, with a picture attached; a reference librarian of another
library takes the question on and answers it (HTMX); the reader gets the email, follows its link
and replies; the librarian publishes the thread, anonymised, in the FAQ; a visitor finds it by
typing a Chinese fragment, then Traditional characters, then pinyin into the FAQ search box.
"""
import re

import pytest
from sqlalchemy import select, text

from jala.extensions import db
from jala.jobs import OutboxEmail, send_outbox_email
from jala.reference.models import Question
from tests.support.browser import fits_the_phone, log_in, new_phone, screenshot
from tests.support.factories import make_user
from tests.support.files import PNG
from tests.support.reference import join_group

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

READER_EMAIL = "e2e-reference-reader@example.edu.cn"
READER_NAME = "欧阳晓雯"
LIBRARIAN_EMAIL = "e2e-reference-librarian@example.edu.cn"
SUBJECT = "毕业论文查重"
BODY = f"老师好，我是{READER_NAME}。毕业论文查重的次数有限制吗？截图是学院的通知。"
ANSWER = "每位本科生在学校查重系统中有两次免费检测机会，之后可到图书馆信息咨询部自费检测。"
REPLY = "谢谢老师！第二次检测前需要预约吗？"
LINK_RE = re.compile(r"https?://\S+?(/reference/questions/\d+)")


@pytest.fixture
def reference_setup(app, smtp):
    """Committed: a verified JXUFE reader, an NCU librarian in the reference working group."""
    smtp.clear()
    with app.app_context():
        reader = make_user(library="JXUFE", email=READER_EMAIL, name=READER_NAME)
        librarian = make_user(library="NCU", roles=["librarian"], email=LIBRARIAN_EMAIL,
                              name="参考馆员甲")
        join_group(librarian)
        secret, reader_id, librarian_id = librarian.totp_secret, reader.id, librarian.id
        db.session.commit()
    yield {"totp_secret": secret}
    with app.app_context():  # the users stay (the audit log names them); the rest goes
        ids = {"reader": reader_id, "librarian": librarian_id}
        questions = db.session.execute(text(
            "SELECT id FROM reference_questions WHERE asker_id = :reader"), ids).scalars().all()
        for question_id in questions:
            q = {"q": question_id}
            files = db.session.execute(text(
                "DELETE FROM reference_messages WHERE question_id = :q "
                "RETURNING attachment_id"), q).scalars().all()
            db.session.execute(text("DELETE FROM reference_questions WHERE id = :q"), q)
            db.session.execute(text(
                "DELETE FROM outbox_emails WHERE object_type = 'reference_question' "
                "AND object_id = :i"), {"i": str(question_id)})
            for file_id in filter(None, files):
                db.session.execute(text("DELETE FROM file_links WHERE file_id = :f"),
                                   {"f": file_id})
                db.session.execute(text("DELETE FROM stored_files WHERE id = :f"),
                                   {"f": file_id})
        db.session.execute(text(
            "DELETE FROM working_group_members WHERE user_id = :librarian"), ids)
        db.session.commit()


def send_the_email(app, question_id, kind, to):
    """Send the outbox email with the worker's job body; returns its plain-text body."""
    with app.app_context():
        [outbox_id] = db.session.execute(select(OutboxEmail.id).where(
            OutboxEmail.object_type == "reference_question",
            OutboxEmail.object_id == str(question_id), OutboxEmail.kind == kind,
            OutboxEmail.to_addr == to)).scalars().all()
        assert send_outbox_email(outbox_id) == "sent"


def test_reader_asks_a_librarian_of_another_library_and_the_answer_joins_the_faq(
        app, live_server, browser, smtp, reference_setup):
    base = live_server
    reader = new_phone(browser)
    librarian = new_phone(browser)
    visitor = new_phone(browser)
    try:
        # --- the reader asks, with a picture ----------------------------------------------
        log_in(reader, base, READER_EMAIL)
        reader.goto(base + "/reference/faq")
        fits_the_phone(reader)
        reader.click("main a.button.primary[href='/reference/ask']")
        reader.wait_for_url("**/reference/ask")
        reader.fill("input[name=subject]", SUBJECT)
        reader.fill("textarea[name=body]", BODY)
        reader.locator("input[type=file][name=attachment]").set_input_files(
            {"name": "通知.png", "mimeType": "image/png", "buffer": PNG})
        fits_the_phone(reader)
        screenshot(reader, "reference-ask-360")
        reader.click("form[action='/reference/ask'] button[type=submit].primary")
        reader.wait_for_url(re.compile(r".*/reference/questions/\d+$"))
        question_id = int(reader.url.rsplit("/", 1)[1])
        assert reader.locator(".flash-success").count() == 1
        assert reader.locator("#question h1 [data-status=open]").is_visible()
        assert reader.locator("#question .message img").count() == 1
        fits_the_phone(reader)
        screenshot(reader, "reference-question-asked-360")

        # --- an NCU reference librarian takes it on from the desk, and answers --------------
        log_in(librarian, base, LIBRARIAN_EMAIL, reference_setup["totp_secret"])
        librarian.goto(base + "/reference/desk")
        card = librarian.locator(f"#q-{question_id}")
        assert SUBJECT in card.inner_text() and "江西财经大学" in card.inner_text()
        fits_the_phone(librarian)
        screenshot(librarian, "reference-desk-360")
        card.locator("form[action$='/claim'] button[type=submit]").click()
        answer_link = card.locator(f"a.button[href$='/reference/questions/{question_id}']")
        answer_link.wait_for()
        assert librarian.url.endswith("/reference/desk")  # swapped in place
        assert "参考馆员甲" in card.inner_text()
        fits_the_phone(librarian)
        screenshot(librarian, "reference-desk-claimed-360")
        answer_link.click()
        librarian.wait_for_url(f"**/reference/questions/{question_id}")
        image = librarian.locator("#question .message img")
        image.scroll_into_view_if_needed()  # the picture loads lazily: bring it into view
        # a broken picture never loads, and this wait fails
        librarian.wait_for_function("document.querySelector('#question .message img').complete"
                                    " && document.querySelector('#question .message img')"
                                    ".naturalWidth > 0")
        assert librarian.evaluate("document.querySelector('#question .message img').naturalWidth"
                                  ) == 8
        librarian.fill("#question textarea[name=body]", ANSWER)
        fits_the_phone(librarian)
        screenshot(librarian, "reference-answering-360")
        librarian.click("#question form[action$='/answer'] button[type=submit]")
        librarian.locator("#question h1 [data-status=answered]").wait_for()
        assert librarian.url.endswith(f"/reference/questions/{question_id}")
        assert ANSWER in librarian.locator("#question .message-staff").inner_text()
        fits_the_phone(librarian)
        screenshot(librarian, "reference-answered-360")

        # --- the reader's email links to the thread; the reader replies ---------------------
        send_the_email(app, question_id, "reference.answer", READER_EMAIL)
        [mail] = [m for m in smtp.messages if m["To"] == READER_EMAIL]
        body = mail.get_body(("plain",)).get_content()
        assert ANSWER in body
        path = LINK_RE.search(body).group(1)  # the mail names PUBLIC_URL; the server differs
        assert path == f"/reference/questions/{question_id}"
        reader.goto(base + path)
        assert reader.locator("#question h1 [data-status=answered]").is_visible()
        assert ANSWER in reader.locator("#question .message-staff").inner_text()
        reader.fill("#question textarea[name=body]", REPLY)
        reader.click("#question form[action$='/reply'] button[type=submit]")
        reader.locator("#question .message-reader", has_text=REPLY).wait_for()
        assert reader.locator("#question h1 [data-status=open]").is_visible()
        assert reader.locator("#question textarea[name=body]").input_value() == ""
        fits_the_phone(reader)
        screenshot(reader, "reference-reader-replied-360")
        send_the_email(app, question_id, "reference.reply", LIBRARIAN_EMAIL)
        assert REPLY in [m for m in smtp.messages if m["To"] == LIBRARIAN_EMAIL][0].get_body(
            ("plain",)).get_content()

        # --- the librarian publishes it in the FAQ, without the reader's name --------------
        librarian.reload()
        assert REPLY in librarian.locator("#question").inner_text()
        librarian.click(f"#question a.button[href='/reference/questions/{question_id}/faq']")
        librarian.wait_for_url(f"**/reference/questions/{question_id}/faq")
        draft_q = librarian.input_value("textarea[name=faq_question]")
        assert READER_NAME not in draft_q and "毕业论文查重的次数有限制吗" in draft_q
        assert ANSWER in librarian.input_value("textarea[name=faq_answer]")
        librarian.fill("textarea[name=faq_question]", "毕业论文查重的次数有限制吗？")
        fits_the_phone(librarian)
        screenshot(librarian, "reference-faq-edit-360")
        librarian.click("form[action$='/faq'] button[type=submit].primary")
        librarian.wait_for_url(f"**/reference/faq/{question_id}")
        fits_the_phone(librarian)

        # --- a visitor finds it: a fragment, Traditional characters, pinyin ---------------
        visitor.goto(base + "/reference/faq")
        hit = visitor.locator(f"#faq-results a[href='/reference/faq/{question_id}']")
        for number, query in enumerate(("论文查重", "畢業論文", "biye lunwen")):
            visitor.fill("#faq-q", query)
            visitor.wait_for_url(re.compile(r".*/reference/faq\?q=.+"))
            visitor.locator("#faq-results [data-testid=faq-count]", has_text=query).wait_for()
            hit.wait_for()
            assert hit.locator("mark").count() >= 1 or query.isascii()
            fits_the_phone(visitor)
            screenshot(visitor, f"reference-faq-search-{number}-360")
        hit.click()
        visitor.wait_for_url(f"**/reference/faq/{question_id}")
        entry = visitor.locator("article.faq-entry").inner_text()
        assert ANSWER in entry and READER_NAME not in entry
        fits_the_phone(visitor)
        screenshot(visitor, "reference-faq-entry-360")
        with app.app_context():
            assert db.session.get(Question, question_id).faq_published_at is not None
    finally:
        reader.context.close()
        librarian.context.close()
        visitor.context.close()
