"""Commendations: the window, nominations, the committee's vote under the 2/3 rule, the results
published as news and kept on each library's page."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.audit import AuditEntry
from jala.community.news.models import News
from jala.community.recognition import commendations as recognition
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.governance import meetings, resolutions
from jala.membership import get_library
from tests.support.factories import make_portal_admin, make_user
from tests.support.governance import CODES, check_in_all, convened_meeting, vote_all
from tests.support.web import as_user, main_of, post_form

ATTENDING = CODES[:6]  # six libraries check in: 4 yes is exactly two thirds


@pytest.fixture
def language():
    """The rules' messages in English."""
    return "en"


@pytest.fixture
def center(ctx):
    """A portal admin of the chair library (the alliance centre)."""
    return make_portal_admin()


@pytest.fixture
def jxufe_admin(ctx):
    """JXUFE's library admin, who nominates for JXUFE."""
    return make_user(library="JXUFE", roles=("library_admin",), name="陈静")


@pytest.fixture
def year(center):
    """This year's nominations, open from today for a month."""
    today = clock.local_today()
    recognition.set_window(center, today.year, today, today + timedelta(days=30))
    return today.year


def _unit(actor, year, code="JXUFE", citation="馆藏数字化与通借通还服务成绩突出。"):
    return recognition.nominate(actor, year=year, kind="unit", library_id=get_library(code).id,
                                citation=citation)


def _person(actor, year, name="王丽", code="JXUFE"):
    return recognition.nominate(actor, year=year, kind="individual",
                                library_id=get_library(code).id, person_name=name,
                                person_title="参考馆员", citation="全年解答读者咨询一千余次。")


def _decide(committee, center, nominations, votes):
    """Put the nominations on a meeting, six libraries vote ``votes[i]`` = (yes, no) on each."""
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    items = recognition.put_on_agenda(center, meeting.id, [n.id for n in nominations])
    check_in_all(meeting, committee, ATTENDING, mode="in_person")
    for item, (yes, no) in zip(items, votes, strict=True):
        vote_all(meeting, item, committee, yes=ATTENDING[:yes], no=ATTENDING[yes:yes + no])
        resolutions.close_item(chair, item.id)
    return meeting, items


# --- the whole flow -------------------------------------------------------------------------------

def test_nomination_becomes_a_commendation_at_exactly_two_thirds_and_is_published_as_news(
        client, committee, center, jxufe_admin, year):
    unit = _unit(jxufe_admin, year)
    person = _person(jxufe_admin, year)
    short = _person(jxufe_admin, year, name="赵强")
    assert unit.status == person.status == "nominated"

    meeting, items = _decide(committee, center, [unit, person, short],
                             votes=[(4, 2), (4, 1), (3, 3)])
    assert [i.kind for i in items] == ["commendation"] * 3
    assert [i.attending for i in items] == [6, 6, 6]
    # 4 of 6 is exactly two thirds; 3 of 6 is one vote short
    assert unit.status == "commended" and person.status == "commended"
    assert short.status == "not_commended" and short.agenda_item.passed is False
    assert meetings.passes(4, 6) and not meetings.passes(3, 6)
    assert set(recognition.commended(year)) == {unit, person}

    # nothing is public until the centre publishes
    assert recognition.library_commendations(get_library("JXUFE")) == []
    row = recognition.publish_results(center, year)
    news = db.session.get(News, row.news_id)
    assert news.category == "commendation" and news.library_id is None and news.is_published
    assert str(year) in news.title
    assert "江西财经大学图书馆" in news.body and "王丽" in news.body and "赵强" not in news.body

    assert set(recognition.library_commendations(get_library("JXUFE"))) == {unit, person}
    page = client.get("/libraries/JXUFE").get_data(as_text=True)
    assert "王丽" in main_of(page) and "参考馆员" in main_of(page) and "赵强" not in page
    public = client.get(f"/commendations?year={year}").get_data(as_text=True)
    assert "王丽" in public and "江西财经大学图书馆" in public and "赵强" not in public
    assert client.get("/commendations").status_code == 200

    actions = set(db.session.execute(select(AuditEntry.action).where(
        AuditEntry.action.like("commendation.%"))).scalars())
    assert actions == {"commendation.window", "commendation.nominate", "commendation.agenda",
                       "commendation.publish"}


def test_a_nomination_fails_with_two_thirds_minus_one_vote(committee, center, jxufe_admin,
                                                              year):
    nomination = _unit(jxufe_admin, year)
    _decide(committee, center, [nomination], votes=[(3, 3)])
    assert nomination.status == "not_commended"
    assert recognition.commended(year) == []
    with pytest.raises(RuleViolation, match="passed no nomination"):
        recognition.publish_results(center, year)


# --- the window and nominating --------------------------------------------------------------------

def test_only_the_centre_opens_the_window(ctx, committee, jxufe_admin):
    today = clock.local_today()
    for actor in (jxufe_admin, committee["NCU"]):
        with pytest.raises(NotAllowed):
            recognition.set_window(actor, today.year, today, today + timedelta(days=5))


def test_the_window_must_end_after_it_starts(center):
    today = clock.local_today()
    with pytest.raises(RuleViolation, match="comes after"):
        recognition.set_window(center, today.year, today, today - timedelta(days=1))


def test_nominations_are_refused_outside_the_window(center, jxufe_admin, year):
    clock.advance(timedelta(days=31))
    with pytest.raises(RuleViolation, match="not open"):
        _unit(jxufe_admin, year)


def test_readers_and_librarians_do_not_nominate(ctx, year):
    for user in (make_user(library="JXUFE"), make_user(library="JXUFE", roles=("librarian",))):
        with pytest.raises(NotAllowed):
            _unit(user, year)


def test_a_library_nominates_only_for_itself(jxufe_admin, year):
    with pytest.raises(NotAllowed, match="own library"):
        recognition.nominate(jxufe_admin, year=year, kind="unit",
                             library_id=get_library("NCU").id, citation="好",
                             nominating_library_id=get_library("NCU").id)


def test_an_individual_needs_a_name_and_a_role(jxufe_admin, year):
    with pytest.raises(RuleViolation, match="name"):
        recognition.nominate(jxufe_admin, year=year, kind="individual",
                             library_id=get_library("JXUFE").id, citation="好")
    with pytest.raises(RuleViolation, match="role or title"):
        recognition.nominate(jxufe_admin, year=year, kind="individual",
                             library_id=get_library("JXUFE").id, person_name="王丽",
                             citation="好")


def test_the_same_nomination_is_made_once_a_year(jxufe_admin, year):
    _unit(jxufe_admin, year)
    with pytest.raises(RuleViolation, match="already"):
        _unit(jxufe_admin, year)
    _person(jxufe_admin, year)
    with pytest.raises(RuleViolation, match="already"):
        _person(jxufe_admin, year)


def test_a_nomination_is_withdrawn_by_its_library_before_the_agenda(
        committee, center, jxufe_admin, year):
    other = make_user(library="ECJTU", roles=("library_admin",))
    nomination = _unit(jxufe_admin, year)
    with pytest.raises(NotFound):
        recognition.withdraw_nomination(other, nomination.id)
    on_agenda = _person(jxufe_admin, year)
    recognition.put_on_agenda(center, convened_meeting(committee["NCU"]).id, [on_agenda.id])
    with pytest.raises(RuleViolation, match="agenda"):
        recognition.withdraw_nomination(jxufe_admin, on_agenda.id)
    recognition.withdraw_nomination(jxufe_admin, nomination.id)
    assert recognition.nominations_for(center, year) == [on_agenda]


# --- the agenda and the results -------------------------------------------------------------------

def test_a_nomination_goes_on_one_agenda_once(committee, center, jxufe_admin, year):
    nomination = _unit(jxufe_admin, year)
    meeting = convened_meeting(committee["NCU"])
    [item] = recognition.put_on_agenda(center, meeting.id, [nomination.id])
    assert item.title == "Advanced unit: 江西财经大学图书馆"
    assert item.body == nomination.citation
    with pytest.raises(RuleViolation, match="already"):
        recognition.put_on_agenda(center, meeting.id, [nomination.id])


def test_readers_neither_see_nominations_nor_put_them_on_the_agenda(committee, jxufe_admin,
                                                                     year):
    nomination = _unit(jxufe_admin, year)
    meeting = convened_meeting(committee["NCU"])
    with pytest.raises(NotAllowed):
        recognition.nominations_for(jxufe_admin, year)
    with pytest.raises(NotAllowed):
        recognition.put_on_agenda(jxufe_admin, meeting.id, [nomination.id])


def test_results_wait_for_every_vote_and_are_published_once(committee, center, jxufe_admin,
                                                              year):
    decided = _unit(jxufe_admin, year)
    _decide(committee, center, [decided], votes=[(6, 0)])
    pending = _person(jxufe_admin, year)
    recognition.put_on_agenda(center, convened_meeting(committee["NCU"]).id, [pending.id])
    with pytest.raises(RuleViolation, match="still voting"):
        recognition.publish_results(center, year)
    resolutions.close_item(committee["NCU"], pending.agenda_item_id)  # no votes: not passed
    with pytest.raises(NotAllowed):
        recognition.publish_results(committee["NCU"], year)
    recognition.publish_results(center, year)
    with pytest.raises(RuleViolation, match="already"):
        recognition.publish_results(center, year)
    with pytest.raises(RuleViolation, match="not open"):
        _person(jxufe_admin, year, name="李华")


def test_markup_in_a_citation_stays_text_in_the_news_and_on_the_pages(
        client, committee, center, jxufe_admin, year):
    nasty = '<script>alert(1)</script> [点我](javascript:alert(2)) **粗体** # 标题'
    nomination = _unit(jxufe_admin, year, citation=nasty)
    _decide(committee, center, [nomination], votes=[(6, 0)])
    row = recognition.publish_results(center, year)
    body = db.session.get(News, row.news_id).body
    assert "\\[点我\\]\\(javascript:alert\\(2\\)\\)" in body and "\\*\\*粗体\\*\\*" in body
    assert "\\<script\\>" in body
    news_page = client.get(f"/news/{row.news_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in news_page and 'href="javascript' not in news_page
    for path in ("/libraries/JXUFE", "/commendations"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


# --- the pages ------------------------------------------------------------------------------------

def test_a_library_admin_nominates_through_the_form(client, jxufe_admin, year):
    as_user(client, jxufe_admin)
    response = post_form(client, "/commendations/nominate", {
        "kind": "individual", "library_id": get_library("JXUFE").id, "person_name": "孙悦",
        "person_title": "馆员", "citation": "组织读书月活动二十场。",
        "nominating_library_id": get_library("JXUFE").id}, token_from="/commendations/nominate")
    assert response.status_code == 303
    page = client.get("/commendations/nominate").get_data(as_text=True)
    assert "孙悦" in page and "Nominated" in page


def test_the_centre_runs_the_year_from_its_page(client, committee, center, jxufe_admin, year):
    nomination = _unit(jxufe_admin, year)
    meeting = convened_meeting(committee["NCU"])
    as_user(client, center)
    page = client.get(f"/commendations/manage?year={year}")
    assert page.status_code == 200 and meeting.title in page.get_data(as_text=True)
    response = post_form(client, "/commendations/agenda", {
        "year": year, "meeting_id": meeting.id, "nomination_ids": [nomination.id]},
        token_from=f"/commendations/manage?year={year}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/committee/meetings/{meeting.id}")
    assert nomination.status == "on_agenda"


def test_readers_do_not_reach_the_centres_page(client, jxufe_admin, year):
    as_user(client, make_user(library="JXUFE"))
    assert client.get("/commendations/manage").status_code == 403
    assert client.get("/commendations/nominate").status_code == 403


# --- dates in words, the window on the public page, publishing only with a result -----------------

def _in_chinese(client):
    assert post_form(client, "/language", {"lang": "zh_Hans"}).status_code == 303
    return client


def _long_date(day):
    return f"{day.year}年{day.month}月{day.day}日"


def test_the_public_page_says_when_nominations_are_open_in_words(client, jxufe_admin, year):
    today = clock.local_today()
    first, last = _long_date(today), _long_date(today + timedelta(days=30))
    page = main_of(client.get("/commendations").get_data(as_text=True))
    assert first in page and last in page and "/commendations/nominate" not in page
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page)
    _in_chinese(as_user(client, jxufe_admin))
    page = main_of(client.get("/commendations").get_data(as_text=True))
    assert first in page and last in page and "提名" in page
    assert 'href="/commendations/nominate"' in page


def test_the_public_page_says_nothing_of_a_closed_window(client, center):
    today = clock.local_today()
    recognition.set_window(center, today.year, today - timedelta(days=40),
                           today - timedelta(days=10))
    page = main_of(client.get("/commendations").get_data(as_text=True))
    assert "/commendations/nominate" not in page and "提名时间" not in page


def test_the_centres_page_writes_dates_in_words_and_publishes_only_a_passed_nomination(
        client, committee, center, jxufe_admin, year):
    _unit(jxufe_admin, year)
    _in_chinese(as_user(client, center))
    page = main_of(client.get(f"/commendations/manage?year={year}").get_data(as_text=True))
    today = clock.local_today()
    assert _long_date(today) in page and _long_date(today + timedelta(days=30)) in page
    visible = re.sub(r'<input[^>]*>', "", page)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", re.sub(r'href="[^"]*"', "", visible))
    assert f"/commendations/{year}/publish" not in page
    assert f"委员会尚未通过{year}年度的任何提名。" in page


def test_the_publish_button_appears_once_a_nomination_has_passed(client, committee, center,
                                                                 jxufe_admin, year):
    unit = _unit(jxufe_admin, year)
    _decide(committee, center, [unit], [(4, 2)])
    as_user(client, center)
    page = client.get(f"/commendations/manage?year={year}").get_data(as_text=True)
    assert f"Publish the results of {year}" in page
