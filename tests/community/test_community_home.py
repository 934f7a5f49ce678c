"""/community and the home page show what is on: the next events and the latest news."""
from datetime import timedelta

from jala import clock
from jala.community.events import services as events
from jala.community.news import services as news
from tests.support.factories import library_id, make_user
from tests.support.web import visible_text


def _what_is_on():
    librarian = make_user(library="NCU", roles=("librarian",), name="活动馆员")
    starts = clock.now() + timedelta(days=2)
    lecture = events.create_event(
        librarian, library_id=library_id("NCU"), title="百家讲坛：赣鄱书院", kind="lecture",
        starts_at=starts, ends_at=starts + timedelta(hours=2), place="报告厅", capacity=50,
        audience="members")
    staff_only = events.create_event(
        librarian, library_id=library_id("NCU"), title="馆员业务交流会", kind="exchange",
        starts_at=starts, ends_at=starts + timedelta(hours=2), place="会议室", capacity=20,
        audience="staff")
    notice = news.create_news(librarian, title="南昌大学图书馆寒假开放时间",
                              body="寒假期间 9:00–17:00 开放。", category="notice",
                              library_id=library_id("NCU"), publish=True)
    return lecture, staff_only, notice


def test_the_community_page_gathers_events_news_and_the_other_sections(client, ctx):
    lecture, staff_only, notice = _what_is_on()
    page = client.get("/community")
    assert page.status_code == 200
    words = visible_text(page.get_data(as_text=True))
    assert lecture.title in words and notice.title in words
    assert staff_only.title not in words  # not for a visitor
    for section in ("/news", "/events", "/contest", "/booklists", "/commendations"):
        assert f'href="{section}"' in page.get_data(as_text=True)


def test_the_home_page_shows_what_is_on_and_leads_to_the_community_page(client, ctx):
    lecture, _staff_only, notice = _what_is_on()
    html = client.get("/").get_data(as_text=True)
    assert lecture.title in html and notice.title in html
    assert 'href="/community"' in html
