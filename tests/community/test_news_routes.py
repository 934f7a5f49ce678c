"""News pages over HTTP: the list with filters and HTMX, the article, feeds, writing with a
preview, uploads, script neutralised, and no IDOR."""
import io
import re
from html.parser import HTMLParser

import feedparser
import pytest
from sqlalchemy import select

from jala.community.news import services as news
from jala.community.news.models import News
from jala.extensions import db
from tests.support.factories import library_id, make_portal_admin, make_user, set_setting
from tests.support.files import PDF, PNG, Upload
from tests.support.web import HTMX, as_user, post_form, visible_text

XSS = ('<script>alert("x")</script>\n\n<img src=x onerror="alert(1)">\n\n'
       '[点我](javascript:alert(1)) <a href="javascript:alert(2)">链接</a>')


@pytest.fixture
def librarian(ctx):
    return make_user(library="JXUFE", roles=("librarian",), name="刘洋")


@pytest.fixture
def centre(ctx):
    return make_portal_admin()


def _publish(actor, **fields):
    values = {"title": "通知", "body": "正文", "category": "notice", **fields}
    return news.publish_news(actor, **values)


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


def _elements(html):
    """``[(tag, [(attribute, value)])]`` of the real elements in ``html``."""
    parser = _Elements()
    parser.feed(html)
    return parser.found


def _write(client, data, path="/news/write"):
    return post_form(client, path, data, token_from="/news/write")


# --- the public pages ---------------------------------------------------------------------

def test_list_shows_published_news_with_date_publisher_and_category_words(client, librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"), title="寒假开放时间",
                    category="notice")
    news.create_news(librarian, title="尚未发布的草稿", body="b", category="news",
                     library_id=library_id("JXUFE"))
    page = client.get("/news").get_data(as_text=True)
    text = visible_text(page)
    assert "寒假开放时间" in text and "尚未发布的草稿" not in text
    assert "江西财经大学图书馆" in text and "通知公告" in text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text)
    assert f"/news/{item.id}" in page and "JXUFE" not in text


def test_list_filters_by_library_and_category_and_answers_htmx_with_the_list(client, librarian,
                                                                             centre):
    _publish(librarian, library_id=library_id("JXUFE"), title="财大新闻", category="news")
    _publish(centre, title="联盟决议", category="decision")
    by_library = client.get("/news?library=JXUFE").get_data(as_text=True)
    assert "财大新闻" in by_library and "联盟决议" not in by_library
    by_centre = client.get("/news?library=center").get_data(as_text=True)
    assert "联盟决议" in by_centre and "财大新闻" not in by_centre
    partial = client.get("/news?category=decision", headers=HTMX).get_data(as_text=True)
    assert "联盟决议" in partial and "财大新闻" not in partial and "<html" not in partial


def test_unknown_library_or_category_is_a_404_with_a_reason(client):
    assert client.get("/news?library=NOPE").status_code == 404
    response = client.get("/news/feed.atom?category=gossip")
    assert response.status_code == 404


def test_list_pages_ten_at_a_time(client, centre):
    for n in range(news.PAGE_SIZE + 1):
        _publish(centre, title=f"第{n}号通知")
    first = client.get("/news").get_data(as_text=True)
    assert "page=2" in first
    second = client.get("/news?page=2").get_data(as_text=True)
    assert second.count('class="hit card news-hit"') == 1


def test_article_shows_title_date_library_category_body_and_attachments(client, librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"), title="讲座通知",
                    body="## 时间\n\n**周五**下午")
    picture = news.add_attachment(librarian, item.id, Upload(PNG, "合影.png"))
    news.add_attachment(librarian, item.id, Upload(PDF, "日程.pdf"))
    news.update_news(librarian, item.id, title="讲座通知", category="notice",
                     body=f"## 时间\n\n**周五**下午\n\n![合影](attachment:{picture.id})")
    page = client.get(f"/news/{item.id}").get_data(as_text=True)
    assert "<h2>时间</h2>" in page and "<strong>周五</strong>" in page
    assert "江西财经大学" in page and "日程.pdf" in page and "/files/view/" in page
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page)
    assert 'rel="alternate" type="application/atom+xml"' in page
    viewed = re.search(r'src="(/files/view/[^"]+)"', page).group(1)
    shown = client.get(viewed)
    assert shown.data == PNG
    shown.close()


def test_draft_is_a_404_for_readers_and_visitors(client, librarian, reader):
    draft = news.create_news(librarian, title="草稿", body="b", category="news",
                             library_id=library_id("JXUFE"))
    assert client.get("/news").status_code == 200  # commits: a 404 rolls back its request only
    assert client.get(f"/news/{draft.id}").status_code == 404
    as_user(client, reader)
    assert client.get(f"/news/{draft.id}").status_code == 404


def test_html_and_script_in_news_are_shown_as_text(client, centre):
    item = _publish(centre, title='<script>alert("t")</script>标题', body=XSS)
    page = client.get(f"/news/{item.id}").get_data(as_text=True)
    body = page.split('class="news-body"', 1)[1].split("</div>", 1)[0]
    elements = _elements(body)
    assert not [tag for tag, _attrs in elements if tag in ("script", "img", "a")]
    assert not [name for _tag, attrs in elements for name, _value in attrs
                if name.startswith("on") or name in ("href", "src", "style")]
    assert "&lt;script&gt;" in body and "&lt;img" in body  # what was typed, shown as text
    assert '<script>alert("t")' not in page and "&lt;script&gt;alert" in page
    feed = client.get("/news/feed.rss").get_data(as_text=True)
    assert "<script>" not in feed


def test_feeds_carry_title_link_date_and_summary_on_the_public_url(client, app, librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"), title="新书展",
                    body="**好书**推荐：[目录](https://example.org)")
    base = app.config["PUBLIC_URL"].rstrip("/")
    for kind in ("atom", "rss"):
        response = client.get(f"/news/feed.{kind}")
        assert response.status_code == 200 and kind in response.mimetype
        parsed = feedparser.parse(response.data)
        entry = next(e for e in parsed.entries if e.title == "新书展")
        assert entry.link == f"{base}/news/{item.id}"
        assert entry.published_parsed[:3] == item.published_at.utctimetuple()[:3]
        assert entry.summary == "好书推荐：目录"
        assert parsed.feed.link.startswith(base)


def test_feed_filters_by_library_and_category(client, librarian, centre):
    _publish(librarian, library_id=library_id("JXUFE"), title="财大通知", category="notice")
    _publish(centre, title="表彰决定", category="commendation")
    titles = [e.title for e in feedparser.parse(
        client.get("/news/feed.atom?library=JXUFE").data).entries]
    assert titles == ["财大通知"]
    titles = [e.title for e in feedparser.parse(
        client.get("/news/feed.rss?category=commendation").data).entries]
    assert titles == ["表彰决定"]


# --- writing ------------------------------------------------------------------------------

def test_a_reader_cannot_open_the_writing_page(client, reader):
    as_user(client, reader)
    assert client.get("/news/write").status_code == 403
    assert client.get("/news/mine").status_code == 403


def test_librarian_writes_previews_and_publishes(client, librarian):
    as_user(client, librarian)
    form = client.get("/news/write").get_data(as_text=True)
    assert f'value="{library_id("JXUFE")}"' in form and 'value="center"' not in form
    data = {"library": str(library_id("JXUFE")), "category": "news", "title": "读书月开幕",
            "body": "**欢迎**参加"}
    preview = _write(client, {**data, "action": "preview"})
    assert preview.status_code == 200 and "<strong>欢迎</strong>" in preview.get_data(as_text=True)
    partial = post_form(client, "/news/write", {**data, "action": "preview"},
                        token_from="/news/write", headers=HTMX).get_data(as_text=True)
    assert "<strong>欢迎</strong>" in partial and "<form" not in partial
    assert db.session.execute(select(News).where(News.title == "读书月开幕")).first() is None
    response = _write(client, {**data, "action": "publish"})
    assert response.status_code == 303
    item = db.session.execute(select(News).where(News.title == "读书月开幕")).scalar_one()
    assert item.is_published and response.headers["Location"].endswith(f"/news/{item.id}")


def test_a_draft_is_saved_then_published_from_the_edit_page(client, librarian):
    as_user(client, librarian)
    response = _write(client, {"library": str(library_id("JXUFE")), "category": "notice",
                               "title": "草稿通知", "body": "内容", "action": "draft"})
    item = db.session.execute(select(News).where(News.title == "草稿通知")).scalar_one()
    assert response.headers["Location"].endswith(f"/news/{item.id}/edit")
    assert not item.is_published
    post_form(client, f"/news/{item.id}/publish", {}, token_from=f"/news/{item.id}/edit")
    assert item.is_published
    post_form(client, f"/news/{item.id}/unpublish", {}, token_from=f"/news/{item.id}/edit")
    assert not item.is_published
    assert "草稿通知" in client.get("/news/mine").get_data(as_text=True)


def test_empty_title_comes_back_on_the_form(client, librarian):
    as_user(client, librarian)
    response = _write(client, {"library": str(library_id("JXUFE")), "category": "news",
                               "title": "", "body": "x", "action": "publish"})
    assert response.status_code == 400 and "field-error" in response.get_data(as_text=True)


def test_librarian_cannot_publish_for_another_library_by_changing_the_form(client, librarian):
    as_user(client, librarian)
    for other in (str(library_id("ECJTU")), "center"):
        response = _write(client, {"library": other, "category": "news", "title": "冒名新闻",
                                   "body": "x", "action": "publish"})
        assert response.status_code == 400
    assert db.session.execute(select(News).where(News.title == "冒名新闻")).first() is None


def test_librarian_cannot_edit_or_unpublish_another_librarys_news(client, librarian):
    ecjtu = make_user(library="ECJTU", roles=("librarian",))
    item = _publish(ecjtu, library_id=library_id("ECJTU"), title="交大新闻")
    draft = news.create_news(ecjtu, title="交大草稿", body="b", category="news",
                             library_id=library_id("ECJTU"))
    as_user(client, librarian)
    assert client.get(f"/news/{item.id}/edit").status_code == 403
    assert client.get(f"/news/{draft.id}/edit").status_code == 404
    token_page = "/news/write"
    assert post_form(client, f"/news/{item.id}/edit", {"title": "改了", "body": "x",
                                                       "category": "news", "action": "save"},
                     token_from=token_page).status_code == 403
    assert post_form(client, f"/news/{item.id}/unpublish", {},
                     token_from=token_page).status_code == 403
    assert post_form(client, f"/news/{draft.id}/publish", {},
                     token_from=token_page).status_code == 404
    upload = post_form(client, f"/news/{item.id}/files", {"file": (io.BytesIO(PNG), "x.png")},
                       token_from=token_page, content_type="multipart/form-data")
    assert upload.status_code == 403
    assert item.title == "交大新闻" and item.is_published and not item.attachments
    assert not draft.is_published


def test_a_picture_is_uploaded_on_the_edit_page(client, librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"))
    as_user(client, librarian)
    response = post_form(client, f"/news/{item.id}/files",
                         {"file": (io.BytesIO(PNG), "合影.png")},
                         token_from=f"/news/{item.id}/edit", content_type="multipart/form-data")
    assert response.status_code == 303
    [attachment] = item.attachments
    page = client.get(f"/news/{item.id}/edit").get_data(as_text=True)
    assert "合影.png" in page and f"(attachment:{attachment.id})" in page


def test_oversized_upload_is_refused_with_a_message(client, librarian):
    set_setting("news.max_attachment_mb", 1)
    item = _publish(librarian, library_id=library_id("JXUFE"))
    as_user(client, librarian)
    big = PNG + b"\0" * (1024 * 1024 + 1)
    response = post_form(client, f"/news/{item.id}/files", {"file": (io.BytesIO(big), "大.png")},
                         token_from=f"/news/{item.id}/edit", content_type="multipart/form-data")
    assert response.status_code == 400
    assert "larger than 1 MB" in response.get_data(as_text=True)
    assert not item.attachments


def test_wrong_kind_of_upload_is_refused_with_a_message(client, librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"))
    as_user(client, librarian)
    response = post_form(client, f"/news/{item.id}/files",
                         {"file": (io.BytesIO(b"MZ\x90\x00 not a picture"), "virus.png")},
                         token_from=f"/news/{item.id}/edit", content_type="multipart/form-data")
    assert response.status_code == 400 and "not a valid" in response.get_data(as_text=True)


def test_a_post_without_csrf_is_refused(client, librarian):
    as_user(client, librarian)
    response = client.post("/news/write", data={"library": str(library_id("JXUFE")),
                                                "category": "news", "title": "t", "body": "b",
                                                "action": "publish"})
    assert response.status_code == 400
    assert db.session.execute(select(News).where(News.title == "t")).first() is None


def test_a_librarys_page_lists_its_newest_news(client, librarian, centre):
    _publish(librarian, library_id=library_id("JXUFE"), title="财大闭馆通知")
    _publish(centre, title="联盟的通知")
    page = client.get("/libraries/JXUFE").get_data(as_text=True)
    assert "财大闭馆通知" in page and "联盟的通知" not in page
    assert "/news/feed.rss?library=JXUFE" in page


# --- the editor after the newcomer walk -----------------------------------------------------------

def _upload(client, item, data, **kwargs):
    return post_form(client, f"/news/{item.id}/files", data, token_from=f"/news/{item.id}/edit",
                     content_type="multipart/form-data", **kwargs)


def test_htmx_upload_answers_with_the_files_section_only_so_the_typed_text_stays(client,
                                                                                 librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"), title="旧标题")
    as_user(client, librarian)
    page = client.get(f"/news/{item.id}/edit").get_data(as_text=True)
    upload_form = re.search(rf'<form [^>]*action="/news/{item.id}/files"[^>]*>', page).group(0)
    assert f'hx-post="/news/{item.id}/files"' in upload_form and 'hx-target="#files"' in upload_form
    assert 'hx-encoding="multipart/form-data"' in upload_form
    assert page.count('name="file"') == 1  # one upload field: in its own form, not the text's
    response = _upload(client, item, {"file": (io.BytesIO(PNG), "合影.png")}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<section class="card narrow" id="files"' in html and "<html" not in html
    assert 'name="title"' not in html and "合影.png" in html and "The file is attached." in html
    assert response.headers["HX-Replace-Url"] == f"/news/{item.id}/edit#files"
    [picture] = item.attachments
    assert f"(attachment:{picture.id})" in html
    assert item.title == "旧标题"  # the text is the editor's to save: untouched, not lost


def test_a_refused_htmx_upload_shows_why_in_the_files_section(client, librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"))
    as_user(client, librarian)
    response = _upload(client, item, {"file": (io.BytesIO(b"MZ\x90\x00 nope"), "v.png")},
                       headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="files"' in html
    assert re.search(r'class="field-error"[^>]*>[^<]*not a valid', html)
    assert not item.attachments


def test_htmx_removal_answers_with_the_files_section(client, librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"))
    picture = news.add_attachment(librarian, item.id, Upload(PNG, "合影.png"))
    as_user(client, librarian)
    response = post_form(client, f"/news/{item.id}/files/{picture.id}/remove", {},
                         token_from=f"/news/{item.id}/edit", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="files"' in html and "合影.png" not in html
    assert not item.attachments


def test_the_writing_page_uploads_with_the_text_and_keeps_it_when_refused(client, librarian):
    as_user(client, librarian)
    response = post_form(client, "/news/write", {
        "library": str(library_id("JXUFE")), "category": "news", "title": "刚输入的标题",
        "body": "刚输入的正文", "action": "upload",
        "file": (io.BytesIO(b"MZ\x90\x00 not a picture"), "v.png")},
        token_from="/news/write", content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "not a valid" in page
    assert 'value="刚输入的标题"' in page and "刚输入的正文" in page
    assert db.session.execute(select(News).where(News.title == "刚输入的标题")).first() is None


def test_a_new_news_with_a_file_is_saved_as_a_draft_with_it(client, librarian):
    as_user(client, librarian)
    page = client.get("/news/write").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="file"' in page
    assert "saves the news as a draft first" in page
    response = post_form(client, "/news/write", {
        "library": str(library_id("JXUFE")), "category": "news", "title": "带图的新闻",
        "body": "正文", "action": "upload", "file": (io.BytesIO(PNG), "海报.png")},
        token_from="/news/write", content_type="multipart/form-data")
    assert response.status_code == 303
    item = db.session.execute(select(News).where(News.title == "带图的新闻")).scalar_one()
    assert not item.is_published
    assert [a.file.original_name for a in item.attachments] == ["海报.png"]
    assert response.headers["Location"].endswith(f"/news/{item.id}/edit#files")


def test_each_picture_has_an_insert_button_and_the_snippet_to_copy(client, librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"))
    picture = news.add_attachment(librarian, item.id, Upload(PNG, "合影.png"))
    as_user(client, librarian)
    page = client.get(f"/news/{item.id}/edit").get_data(as_text=True)
    snippet = f"![Picture caption](attachment:{picture.id})"
    assert re.search(r'<button type="button" class="news-insert" data-snippet="'
                     + re.escape(snippet) + '" data-target="body" hidden>', page)
    assert 'id="body"' in page  # the textarea the button writes into
    assert f"<code>{snippet}</code>" in page
    assert "/static/js/community-news.js" in page and "<script>" not in page.split("</head>")[1]
    assert "Markdown" not in visible_text(page) and "empty line between paragraphs" in page


def test_a_picture_shown_in_the_body_is_not_listed_again_below(client, librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"))
    inline = news.add_attachment(librarian, item.id, Upload(PNG, "正文图.png"))
    news.add_attachment(librarian, item.id, Upload(PNG, "另一张.png"))
    news.update_news(librarian, item.id, title="通知", category="notice",
                     body=f"开头\n\n![合影](attachment:{inline.id})")
    page = client.get(f"/news/{item.id}").get_data(as_text=True)
    pictures = re.search(r'<div class="news-pictures">.*?</div>', page, re.S).group(0)
    assert 'alt="另一张.png"' in pictures and "正文图.png" not in pictures
    body = re.search(r'<div class="news-body">.*?</div>', page, re.S).group(0)
    assert body.count("<img") == 1
