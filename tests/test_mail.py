"""Emails from templates: the recipient's language, an HTML part, the caller's transaction."""
from email.utils import parsedate_to_datetime

from sqlalchemy import select

from jala import clock
from jala.extensions import db
from jala.jobs import OutboxEmail, run_worker
from jala.mail import notify, render_email
from tests.support.factories import make_user

LINK = "https://portal.example.edu.cn/password/reset/abc?x=1&y=2"


def test_a_user_gets_the_email_in_their_own_language(ctx):
    english, chinese = make_user(), make_user()
    english.locale = "en"
    notify(english, "account_reset", kind="account.reset", hours=2, link=LINK)
    notify(chinese, "account_reset", kind="account.reset", hours=2, link=LINK)
    rows = {row.to_addr: row for row in db.session.execute(select(OutboxEmail)).scalars()}
    assert rows[english.email].subject == "Reset your JALA Portal password"
    assert rows[chinese.email].subject == "重置您的江西高校图书馆联盟门户密码"
    assert "2" in rows[chinese.email].body_text and LINK in rows[chinese.email].body_text


def test_the_html_part_has_the_same_paragraphs_with_clickable_escaped_links(ctx):
    subject, text, html = render_email("account_reset", hours=2, link=LINK)
    assert subject and LINK in text
    escaped = LINK.replace("&", "&amp;")
    assert f'<a href="{escaped}">{escaped}</a>' in html
    assert html.count("<p") == len([p for p in text.split("\n\n") if p.strip()])


def test_text_from_readers_is_escaped_in_the_html_part(ctx):
    _subject, _text, html = render_email("account_reset", hours=2,
                                         link="<script>alert(1)</script>")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_email_is_part_of_the_callers_transaction(ctx):
    reader = make_user()
    savepoint = db.session.begin_nested()
    notify(reader, "account_reset", kind="account.reset", hours=2, link=LINK)
    savepoint.rollback()
    assert db.session.execute(
        select(OutboxEmail).where(OutboxEmail.to_addr == reader.email)).first() is None


def test_sent_emails_carry_a_real_date_with_the_beijing_offset(ctx, app, smtp):
    smtp.clear()
    reader = make_user()
    row = notify(reader, "account_reset", kind="account.reset", hours=2, link=LINK)
    db.session.commit()
    run_worker(app, burst=True)
    [message] = [m for m in smtp.messages if m["To"] == reader.email]
    assert message["Date"].endswith("+0800")
    sent_date = parsedate_to_datetime(message["Date"])
    assert abs((sent_date - row.created_at).total_seconds()) < 1
    assert abs((sent_date - clock.now()).total_seconds()) < 120
    assert message.get_body(preferencelist=("html",)) is not None
