"""Governance pages over HTTP: the public form, meetings on a phone, HTMX votes, access."""
import io
import re
from datetime import timedelta

from sqlalchemy import select

from jala import clock
from jala.extensions import db
from jala.governance import applications, meetings
from jala.governance.models import AgendaItem, Meeting, MembershipApplication
from tests.support.factories import make_portal_admin, make_user
from tests.support.files import PDF
from tests.support.governance import make_chair, seat_committee
from tests.support.web import HTMX, as_user, post_form


def application_form(**overrides):
    data = {"name_zh": "江西师范大学图书馆", "name_en": "JXNU Library", "code": "JXNU",
            "city": "南昌", "website": "", "contact_name": "李馆长",
            "contact_email": "head@jxnu.edu.cn", "contact_phone": "0791-1234567",
            "letter": (io.BytesIO(PDF), "application.pdf")}
    data.update(overrides)
    return data


def test_a_library_applies_on_the_public_form(client):
    post_form(client, "/language", {"lang": "en"})
    assert client.get("/join").status_code == 200
    response = post_form(client, "/join", application_form(), token_from="/join",
                         content_type="multipart/form-data")
    assert response.status_code == 200 and "Application received" in response.get_data(
        as_text=True)
    application = db.session.execute(select(MembershipApplication).where(
        MembershipApplication.code == "JXNU")).scalar_one()
    assert application.status == "submitted" and application.letter.content_type == \
        "application/pdf"


def test_an_application_without_a_real_pdf_is_refused_with_the_reason(client):
    post_form(client, "/language", {"lang": "en"})
    response = post_form(client, "/join", application_form(
        code="FAKE", letter=(io.BytesIO(b"MZ\x90\x00 not a pdf"), "letter.pdf")),
        token_from="/join", content_type="multipart/form-data")
    assert response.status_code == 400 and "not a valid PDF" in response.get_data(as_text=True)
    assert db.session.execute(select(MembershipApplication).where(
        MembershipApplication.code == "FAKE")).first() is None


def test_a_meeting_on_the_phone_check_in_vote_close(client):
    members = seat_committee(("NCU", "JXUFE", "ECJTU"))
    make_chair(members["NCU"])
    chair = members["NCU"]
    as_user(client, chair)
    starts = (clock.now() + timedelta(minutes=40)).astimezone(clock.SHANGHAI)
    response = post_form(client, "/committee/meetings/new", {
        "title": "第十五次委员会会议", "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "place": "南昌大学图书馆", "online_url": "", "how": "convene"},
        token_from="/committee/meetings/new")
    assert response.status_code == 303
    meeting = db.session.execute(select(Meeting).where(
        Meeting.title == "第十五次委员会会议")).scalar_one()
    assert meeting.status == "convened"
    response = post_form(client, f"/committee/meetings/{meeting.id}/items",
                         {"kind": "resolution", "title": "Adopt the plan", "body": "",
                          "application_id": "", "target_library": "", "target_user": "",
                          "rotation": "", "amount": ""},
                         token_from=f"/committee/meetings/{meeting.id}")
    assert response.status_code == 303
    item = db.session.execute(select(AgendaItem).where(
        AgendaItem.meeting_id == meeting.id)).scalar_one()
    page = f"/committee/meetings/{meeting.id}"
    post_form(client, f"{page}/check-in", {"mode": "in_person"}, token_from=page)
    attendance = client.get(f"{page}/attendance", headers=HTMX).get_data(as_text=True)
    assert "Nanchang University Library" in attendance and ">NCU<" not in attendance
    response = post_form(client, f"/committee/items/{item.id}/vote", {"choice": "yes"},
                         headers=HTMX, token_from=page)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="item-{item.id}"' in body
    assert re.search(r'value="yes"[^>]*aria-pressed="true"', body)

    other = client.application.test_client()
    as_user(other, members["JXUFE"])
    response = post_form(other, f"/committee/items/{item.id}/vote", {"choice": "no"},
                         headers=HTMX, token_from=page)
    assert "Check in to the meeting" in response.get_data(as_text=True)

    response = post_form(client, f"/committee/items/{item.id}/close", {}, headers=HTMX,
                         token_from=page)
    assert 'data-result="passed"' in response.get_data(as_text=True)
    response = post_form(client, f"{page}/close", {"minutes_note": "Adopted."},
                         token_from=page)
    assert response.status_code == 303
    minutes = client.get(f"{page}/minutes").get_data(as_text=True)
    assert "1 for, 0 against, 0 abstaining, 1 attending" in minutes


def test_members_sign_a_joint_request_in_the_browser(client):
    members = seat_committee(("JXUFE", "ECJTU", "JXAU"))
    starts = (clock.now() + timedelta(days=2)).astimezone(clock.SHANGHAI)
    as_user(client, members["JXUFE"])
    post_form(client, "/committee/meetings/new", {
        "title": "联名提议会议", "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "place": "", "online_url": "https://meet.example.cn/x"},
        token_from="/committee/meetings/new")
    meeting = db.session.execute(select(Meeting).where(Meeting.title == "联名提议会议")
                                 ).scalar_one()
    assert meeting.status == "requested" and meeting.convened_via == "joint"
    for code in ("ECJTU", "JXAU"):
        signer = client.application.test_client()
        as_user(signer, members[code])
        page = f"/committee/meetings/{meeting.id}"
        assert post_form(signer, f"{page}/sign", {}, token_from=page).status_code == 303
    db.session.refresh(meeting)
    assert meeting.status == "convened"


def test_meetings_are_not_for_readers_and_votes_not_for_other_staff(client):
    members = seat_committee(("NCU",))
    make_chair(members["NCU"])
    meeting = meetings.convene_meeting(members["NCU"], title="M", place="P",
                                       starts_at=clock.now() + timedelta(days=1))
    as_user(client, make_user(library="JXUFE"))
    assert client.get(f"/committee/meetings/{meeting.id}").status_code == 404
    assert client.get("/committee").status_code == 403
    staff = client.application.test_client()
    as_user(staff, make_user(library="JXUFE", roles=("librarian",)))
    assert staff.get(f"/committee/meetings/{meeting.id}").status_code == 200
    response = post_form(staff, f"/committee/meetings/{meeting.id}/check-in",
                         {"mode": "online"})
    assert response.status_code == 403


def test_the_application_pages_are_for_the_management_center(client):
    application = applications.submit_application(
        name_zh="某学院图书馆", code="MOU", city="赣州", contact_name="张",
        contact_email="z@mou.edu.cn", letter=type("U", (), {
            "stream": io.BytesIO(PDF), "filename": "a.pdf"})())
    as_user(client, make_user(library="JXUFE", roles=("library_admin",)))
    assert client.get("/center/applications").status_code == 403
    assert client.get(f"/center/applications/{application.id}").status_code == 403
    admin = client.application.test_client()
    as_user(admin, make_portal_admin())
    page = admin.get(f"/center/applications/{application.id}").get_data(as_text=True)
    letter = re.search(r'href="(http[^"]*/files/[^"]+)"', page).group(1)
    download = admin.get(letter.split("localhost", 1)[-1])
    assert download.data == PDF
    download.close()
    response = post_form(admin, f"/center/applications/{application.id}",
                         {"decision": "complete", "note": ""},
                         token_from=f"/center/applications/{application.id}")
    assert response.status_code == 303 and application.status == "complete"


def test_the_directory_shows_a_withdrawing_library_and_its_history(client):
    director = make_user(library="JDZU", roles=("committee_member",))
    as_user(client, director)
    effective = clock.local_today() + timedelta(days=10)
    response = post_form(client, "/libraries/JDZU/withdraw", {
        "effective_on": effective.isoformat(), "notice": (io.BytesIO(PDF), "notice.pdf")},
        token_from="/libraries/JDZU/withdraw", content_type="multipart/form-data")
    assert response.status_code == 303
    page = client.get("/libraries/JDZU").get_data(as_text=True)
    assert "Membership history" in page and effective.isoformat() in page
    assert "Leaving on" in page
    directory = client.get("/libraries").get_data(as_text=True)
    assert 'id="lib-JDZU"' in directory  # still a member until the date
    clock.advance(timedelta(days=11))
    directory = client.get("/libraries").get_data(as_text=True)
    assert 'id="lib-JDZU"' not in directory and "Former members" in directory


def test_the_chair_libraries_page_is_public(client):
    page = client.get("/chairs").get_data(as_text=True)
    assert "2023" in page and "2024" in page
