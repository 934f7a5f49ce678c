"""At 360 px: the alliance centre's organiser writes a notice with Markdown (and a script that
must stay text), previews it (HTMX), saves a draft, has an oversized picture refused, attaches a
picture, and publishes; a reader opens the news list on the phone and reads the notice; the
Atom and RSS feeds, read by feedparser, carry it with its title, link, date and summary.
"""
import re
from urllib.request import urlopen

import feedparser
import pytest
from sqlalchemy import text

from jala.extensions import db
from jala.settings import Setting
from tests.support.browser import (
    fits_the_phone,
    log_in,
    new_phone,
    screenshot,
    small_tap_targets,
)
from tests.support.factories import make_portal_admin, make_user
from tests.support.files import png

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

ORGANISER_EMAIL = "e2e-news-organiser@example.edu.cn"
READER_EMAIL = "e2e-news-reader@example.edu.cn"
TITLE = "关于举办2027年读书月活动的通知"
BODY = ("各成员馆：\n\n联盟定于**四月**举办读书月活动，内容包括：\n\n- 百家讲坛讲座\n- 读书会\n\n"
        '<script>document.title="pwned"</script> <img src=x onerror="alert(1)">')
LIMIT_MB = 1


@pytest.fixture
def news_setup(app):
    """Committed: a centre admin (portal admin of the chair library), a reader; 1 MB uploads."""
    with app.app_context():
        organiser = make_portal_admin()
        organiser.email = ORGANISER_EMAIL
        organiser.display_name = "联盟秘书处"
        make_user(library="JXUFE", email=READER_EMAIL, name="读者小王")
        db.session.merge(Setting(key="news.max_attachment_mb", value=LIMIT_MB))
        secret, organiser_id = organiser.totp_secret, organiser.id
        db.session.commit()
    yield {"totp_secret": secret}
    with app.app_context():  # the users stay (the audit log names them); the rest goes
        news_ids = db.session.execute(text(
            "SELECT id FROM news_items WHERE author_id = :o"), {"o": organiser_id}).scalars().all()
        for news_id in news_ids:
            files = db.session.execute(text(
                "DELETE FROM news_attachments WHERE news_id = :n RETURNING file_id"),
                {"n": news_id}).scalars().all()
            db.session.execute(text("DELETE FROM news_items WHERE id = :n"), {"n": news_id})
            for file_id in files:
                db.session.execute(text("DELETE FROM stored_files WHERE id = :f"), {"f": file_id})
        db.session.execute(text("DELETE FROM settings WHERE key = 'news.max_attachment_mb'"))
        db.session.commit()


def test_organiser_publishes_a_notice_a_reader_reads_it_and_feeds_carry_it(
        app, live_server, browser, news_setup):
    base = live_server
    organiser = new_phone(browser)
    reader = new_phone(browser)
    try:
        # --- the organiser writes, previews and saves a draft ------------------------------
        log_in(organiser, base, ORGANISER_EMAIL, news_setup["totp_secret"])
        organiser.goto(base + "/news/mine")
        fits_the_phone(organiser)
        organiser.click("main a.button.primary[href='/news/write']")
        organiser.wait_for_url("**/news/write")
        organiser.select_option("select[name=library]", "center")
        organiser.select_option("select[name=category]", "notice")
        organiser.fill("input[name=title]", TITLE)
        organiser.fill("textarea[name=body]", BODY)
        organiser.click("button[name=action][value=preview]")
        organiser.locator("#news-preview strong", has_text="四月").wait_for()
        assert organiser.url.endswith("/news/write")  # the preview came in place (HTMX)
        preview = organiser.locator("#news-preview .news-body")
        assert preview.locator("script, img").count() == 0
        assert "<script>" in preview.inner_text()  # the script is shown as the text typed
        fits_the_phone(organiser)
        screenshot(organiser, "news-write-preview-360")
        organiser.click("button[name=action][value=draft]")
        organiser.wait_for_url(re.compile(r".*/news/\d+/edit$"))
        news_id = int(organiser.url.rsplit("/", 2)[1])
        assert organiser.locator(".flash-success").count() == 1

        # --- an oversized picture is refused with a message; a small one is attached --------
        big = png(1) + b"\0" * (LIMIT_MB * 1024 * 1024)
        organiser.locator("input[type=file][name=file]").set_input_files(
            {"name": "大合影.png", "mimeType": "image/png", "buffer": big})
        organiser.click(f"form[action='/news/{news_id}/files'] button[type=submit]")
        organiser.locator(".field-error", has_text=f"{LIMIT_MB} MB").wait_for()
        fits_the_phone(organiser)
        screenshot(organiser, "news-upload-refused-360")
        organiser.locator("input[type=file][name=file]").set_input_files(
            {"name": "海报.png", "mimeType": "image/png", "buffer": png(2027)})
        organiser.click(f"form[action='/news/{news_id}/files'] button[type=submit]")
        organiser.wait_for_url(f"**/news/{news_id}/edit#files")
        assert "海报.png" in organiser.locator("#files").inner_text()
        fits_the_phone(organiser)
        screenshot(organiser, "news-edit-360")

        # --- and publishes it ---------------------------------------------------------------
        organiser.click(f"form[action='/news/{news_id}/publish'] button[type=submit]")
        organiser.wait_for_url(f"**/news/{news_id}")
        assert organiser.locator("h1.news-title").inner_text() == TITLE
        organiser.goto(base + "/news/mine")
        assert TITLE in organiser.locator("ul.news-manage").inner_text()
        fits_the_phone(organiser)
        screenshot(organiser, "news-manage-360")

        # --- a reader finds it on the phone and reads it ------------------------------------
        log_in(reader, base, READER_EMAIL)
        reader.goto(base + "/news")
        fits_the_phone(reader)
        screenshot(reader, "news-list-360")
        link = reader.locator(f"#news-results a.hit-title[href='/news/{news_id}']")
        assert link.inner_text() == TITLE
        reader.select_option("select[name=category]", "decision")  # HTMX filter: not there
        reader.wait_for_url("**/news?*category=decision*")
        reader.locator("#news-results .empty-results").wait_for()
        reader.select_option("select[name=category]", "notice")
        link.wait_for()
        link.click()
        reader.wait_for_url(f"**/news/{news_id}")
        article = reader.locator("article.news-article")
        words = article.inner_text()
        assert TITLE in words and "通知公告" in words and "联盟管理中心" in words
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", words)
        assert article.locator(".news-body li").count() == 2
        assert article.locator(".news-body script, .news-body img").count() == 0
        assert reader.title() != "pwned"
        picture = article.locator(".news-pictures img")
        picture.scroll_into_view_if_needed()
        reader.wait_for_function("document.querySelector('.news-pictures img').complete && "
                                 "document.querySelector('.news-pictures img').naturalWidth > 0")
        assert reader.locator("link[rel=alternate][type='application/atom+xml']").count() == 1
        assert small_tap_targets(reader, "article.news-article a") == []
        fits_the_phone(reader)
        screenshot(reader, "news-article-360")

        # --- feed readers get it: title, link on PUBLIC_URL, date, summary ------------------
        public = app.config["PUBLIC_URL"].rstrip("/")
        for kind in ("atom", "rss"):
            with urlopen(f"{base}/news/feed.{kind}?library=center&category=notice") as answer:
                parsed = feedparser.parse(answer.read())
            entry = next(e for e in parsed.entries if e.title == TITLE)
            assert entry.link == f"{public}/news/{news_id}"
            assert entry.published_parsed is not None
            assert entry.summary.startswith("各成员馆： 联盟定于四月举办读书月活动")
            # words, never markup: Atom's summary is text, RSS's description escaped HTML
            if kind == "atom":
                assert entry.summary_detail.type == "text/plain"
            else:
                assert "<script" not in entry.summary and "&lt;script&gt;" in entry.summary
    finally:
        organiser.context.close()
        reader.context.close()
