"""Committee pages that explain themselves: check-in only when open, sentences for refusals,
confirmations before what cannot be undone, names and titles instead of codes and ids."""
import re
from datetime import timedelta

from jala import clock
from jala.governance import meetings, resolutions
from tests.support.factories import make_user
from tests.support.governance import make_chair, seat_committee
from tests.support.web import as_user, post_form


def _meeting(chair, starts_in):
    return meetings.convene_meeting(chair, title="第十五次委员会会议", place="南昌大学图书馆",
                                    starts_at=clock.now() + starts_in)


def test_a_future_meeting_says_when_check_in_opens_instead_of_offering_it(client):
    members = seat_committee(("NCU", "JXUFE"))
    make_chair(members["NCU"])
    meeting = _meeting(members["NCU"], timedelta(days=3))
    as_user(client, members["JXUFE"])
    page = client.get(f"/committee/meetings/{meeting.id}").get_data(as_text=True)
    assert "/check-in" not in page and "Check in (in person)" not in page
    assert "Check-in opens at" in page and "an hour before the meeting starts" in page
    resolutions.add_agenda_item(members["NCU"], meeting.id, kind="resolution", title="议题甲")
    chair = client.application.test_client()
    as_user(chair, members["NCU"])
    page = chair.get(f"/committee/meetings/{meeting.id}").get_data(as_text=True)
    assert "议题甲" in page and "End voting" not in page and "/close" not in page


def test_an_early_check_in_is_refused_with_a_sentence_not_a_status_page(client):
    members = seat_committee(("NCU", "JXUFE"))
    make_chair(members["NCU"])
    meeting = _meeting(members["NCU"], timedelta(days=3))
    as_user(client, members["JXUFE"])
    page = f"/committee/meetings/{meeting.id}"
    response = post_form(client, f"{page}/check-in", {"mode": "online"}, token_from=page,
                         follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<h1>第十五次委员会会议" in body
    assert "Check-in opens an hour before the meeting starts." in body


def test_an_open_meeting_offers_check_in_and_asks_before_closing(client):
    members = seat_committee(("NCU", "JXUFE"))
    make_chair(members["NCU"])
    meeting = _meeting(members["NCU"], timedelta(minutes=30))
    resolutions.add_agenda_item(members["NCU"], meeting.id, kind="resolution",
                                title="通过年度工作计划")
    as_user(client, members["NCU"])
    page = client.get(f"/committee/meetings/{meeting.id}").get_data(as_text=True)
    assert "Check in (in person)" in page and "Check-in opens at" not in page
    assert "End voting and announce the result" in page
    assert re.search(r'hx-confirm="[^"]*通过年度工作计划[^"]*"', page)
    assert re.search(r'<form[^>]*/close"[^>]*data-confirm="[^"]+"', page)


def test_joint_request_signed_twice_is_a_sentence_on_the_page(client):
    members = seat_committee(("JXUFE", "ECJTU"))
    meeting = meetings.request_meeting(members["JXUFE"], title="联名提议会议", place="线上",
                                       starts_at=clock.now() + timedelta(days=2))
    as_user(client, members["JXUFE"])
    page = f"/committee/meetings/{meeting.id}"
    response = post_form(client, f"{page}/sign", {}, token_from=page, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Your library has already signed" in body
    assert "Jiangxi University of Finance and Economics Library" in body  # who signed, by name


def test_the_committee_page_names_libraries_and_explains_an_empty_list(client):
    members = seat_committee(("NCU",))
    make_chair(members["NCU"])
    as_user(client, members["NCU"])
    page = client.get("/committee").get_data(as_text=True)
    assert "The committee has no meeting yet." in page
    assert page.count('href="/committee/meetings/new"') == 2  # the button and the empty state
    assert "Nanchang University Library" in page and "(NCU)" not in page
    staff = client.application.test_client()
    as_user(staff, make_user(library="JXUFE", roles=("librarian",)))
    page = staff.get("/committee").get_data(as_text=True)
    assert "The committee has no meeting yet." in page and "/committee/meetings/new" not in page


def test_handover_and_withdrawal_forms_ask_before_they_act(client):
    director = make_user(library="JDZU", roles=("committee_member",))
    as_user(client, director)
    page = client.get("/libraries/JDZU/withdraw").get_data(as_text=True)
    assert re.search(r'<form[^>]*data-confirm="[^"]*Jingdezhen[^"]*"', page)
