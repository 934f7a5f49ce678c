"""News and notices: who publishes for whom, drafts, unpublishing, files, lists and latest news."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.audit import AuditEntry
from jala.community.markup import render_markdown
from jala.community.news import services as news
from jala.community.news.models import News
from jala.errors import NotAllowed, NotFound, RuleViolation
from tests.support.factories import library_id, make_portal_admin, make_user, set_setting
from tests.support.files import PDF, PNG, Upload
from tests.support.governance import stale_portal_admin


@pytest.fixture
def language():
    """The rules' messages in English."""
    return "en"


@pytest.fixture
def centre(ctx):
    return make_portal_admin()


@pytest.fixture
def librarian(ctx):
    return make_user(library="JXUFE", roles=("librarian",), name="JXUFE Librarian")


@pytest.fixture
def other_librarian(ctx):
    return make_user(library="ECJTU", roles=("librarian",), name="ECJTU Librarian")


def _publish(actor, **fields):
    values = {"title": "通知", "body": "正文", "category": "notice", **fields}
    return news.publish_news(actor, **values)


def test_centre_admin_publishes_alliance_news_with_an_audit_entry(centre):
    clock.freeze(clock.now())
    item = _publish(centre, title="联盟年会召开", category="news")
    assert item.library_id is None and item.is_published and item.published_at == clock.now()
    entry = news.db.session.execute(select(AuditEntry).where(
        AuditEntry.action == "news.publish", AuditEntry.object_id == str(item.id))).scalar_one()
    assert entry.actor_id == centre.id


def test_librarian_publishes_for_their_own_library(librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"))
    assert item.library.code == "JXUFE" and item.author_id == librarian.id


def test_librarian_cannot_publish_for_another_library(librarian):
    with pytest.raises(NotAllowed):
        _publish(librarian, library_id=library_id("ECJTU"))


def test_librarian_cannot_publish_for_the_alliance_centre(librarian):
    with pytest.raises(NotAllowed):
        _publish(librarian)


def test_reader_cannot_publish(reader):
    with pytest.raises(NotAllowed):
        _publish(reader, library_id=library_id("JXUFE"))


def test_portal_admin_outside_the_chair_library_is_not_the_centre(ctx):
    admin = stale_portal_admin("ECJTU")
    with pytest.raises(NotAllowed):
        _publish(admin)


def test_nobody_publishes_without_an_account(ctx):
    with pytest.raises(NotAllowed):
        _publish(None, category="commendation", title="先进集体")


def test_unknown_category_and_empty_title_are_refused(centre):
    with pytest.raises(RuleViolation, match="category"):
        _publish(centre, category="gossip")
    with pytest.raises(RuleViolation, match="title"):
        _publish(centre, title="  ")
    with pytest.raises(RuleViolation, match="characters"):
        _publish(centre, title="长" * (news.TITLE_MAX + 1))


def test_a_draft_is_seen_only_by_its_editors(librarian, other_librarian, reader):
    draft = news.create_news(librarian, title="草稿", body="b", category="news",
                             library_id=library_id("JXUFE"))
    assert not draft.is_published
    assert news.get_news(librarian, draft.id) is draft
    for outsider in (other_librarian, reader, None):
        with pytest.raises(NotFound):
            news.get_news(outsider, draft.id)
    assert draft not in news.list_news()[0]


def test_publish_then_unpublish_takes_it_off_lists_and_feeds(librarian, reader):
    draft = news.create_news(librarian, title="开放时间调整", body="b", category="notice",
                             library_id=library_id("JXUFE"))
    news.publish(librarian, draft.id)
    assert draft in news.list_news()[0] and draft in news.feed_news()
    with pytest.raises(RuleViolation, match="already published"):
        news.publish(librarian, draft.id)
    news.unpublish(librarian, draft.id)
    assert draft.published_at is None
    assert draft not in news.list_news()[0] and draft not in news.feed_news()
    with pytest.raises(NotFound):
        news.get_news(reader, draft.id)


def test_librarian_cannot_edit_or_unpublish_another_librarys_news(librarian, other_librarian):
    item = _publish(other_librarian, library_id=library_id("ECJTU"), title="交大新闻")
    with pytest.raises(NotAllowed):
        news.update_news(librarian, item.id, title="改了", body="x", category="news")
    with pytest.raises(NotAllowed):
        news.unpublish(librarian, item.id)
    with pytest.raises(NotAllowed):
        news.add_attachment(librarian, item.id, Upload(PNG, "a.png"))
    assert item.title == "交大新闻" and item.is_published


def test_librarian_cannot_edit_the_centres_news(librarian, centre):
    item = _publish(centre, title="联盟通知")
    with pytest.raises(NotAllowed):
        news.update_news(librarian, item.id, title="改了", body="x", category="news")


def test_colleague_of_the_same_library_may_edit(librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"))
    colleague = make_user(library="JXUFE", roles=("library_admin",))
    news.update_news(colleague, item.id, title="新标题", body="新正文", category="news",
                     pinned=True)
    assert (item.title, item.category, item.pinned, item.updated_by_id) == (
        "新标题", "news", True, colleague.id)


def test_pinned_news_comes_first_then_newest(centre):
    old = _publish(centre, title="旧")
    pinned = news.update_news(centre, old.id, title="置顶", body="b", category="notice",
                              pinned=True)
    clock.advance(timedelta(hours=1))
    newer = _publish(centre, title="新")
    assert news.list_news()[0][:2] == [pinned, newer]
    assert news.latest_news(2) == [pinned, newer]
    assert news.feed_news()[:2] == [newer, pinned]


def test_list_filters_by_library_centre_and_category(centre, librarian):
    mine = _publish(librarian, library_id=library_id("JXUFE"), category="news")
    theirs = _publish(centre, category="decision")
    assert news.list_news(library_id=library_id("JXUFE"))[0] == [mine]
    assert news.list_news(library_id=news.CENTER)[0] == [theirs]
    assert news.list_news(category="decision")[0] == [theirs]
    assert news.latest_news(library_id=library_id("JXUFE")) == [mine]


def test_list_pages(centre):
    for n in range(news.PAGE_SIZE + 2):
        _publish(centre, title=f"第{n}条")
    first, more = news.list_news(page=1)
    second, more_after = news.list_news(page=2)
    assert len(first) == news.PAGE_SIZE and more
    assert len(second) == 2 and not more_after
    assert not set(first) & set(second)


def test_picture_and_pdf_attach_and_picture_shows_in_the_body(librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"))
    picture = news.add_attachment(librarian, item.id, Upload(PNG, "photo.png"))
    pdf = news.add_attachment(librarian, item.id, Upload(PDF, "通知.pdf"))
    assert item.images == [picture] and item.documents == [pdf]
    body = news.body_with_pictures(item, f"![合影](attachment:{picture.id}) "
                                         f"![x](attachment:{pdf.id})")
    html = str(render_markdown(body))
    assert "/files/view/" in html and html.count("<img") == 2
    assert f"attachment:{pdf.id}" not in html
    news.remove_attachment(librarian, item.id, picture.id)
    assert item.attachments == [pdf]
    assert picture.file.delete_after is not None  # swept from the disk


def test_oversized_upload_is_refused_with_a_message(librarian):
    set_setting("news.max_attachment_mb", 1)
    item = _publish(librarian, library_id=library_id("JXUFE"))
    with pytest.raises(RuleViolation, match="larger than 1 MB"):
        news.add_attachment(librarian, item.id, Upload(PNG + b"0" * (1024 * 1024), "big.png"))


def test_wrong_kind_of_upload_is_refused(librarian):
    item = _publish(librarian, library_id=library_id("JXUFE"))
    with pytest.raises(RuleViolation, match="not a valid"):
        news.add_attachment(librarian, item.id, Upload(b"<html><script>", "x.png"))


def test_script_in_a_news_body_is_shown_as_text():
    html = str(render_markdown('<script>alert(1)</script> <img src=x onerror="alert(1)"> '
                               '[click](javascript:alert(1))'))
    assert "<script" not in html and "<img" not in html and "href" not in html
    assert "&lt;script&gt;" in html  # shown as the text that was typed


def test_manage_list_shows_drafts_first_only_of_own_library(librarian, other_librarian):
    mine = _publish(librarian, library_id=library_id("JXUFE"))
    draft = news.create_news(librarian, title="草稿", body="b", category="news",
                             library_id=library_id("JXUFE"))
    _publish(other_librarian, library_id=library_id("ECJTU"))
    assert news.news_to_manage(librarian) == [draft, mine]
    assert [lid for lid, _lib in news.writable_libraries(librarian)] == [library_id("JXUFE")]


def test_news_row_keeps_only_known_categories(centre):
    item = _publish(centre)
    assert news.db.session.get(News, item.id).category in ("news", "notice", "decision",
                                                           "commendation")
