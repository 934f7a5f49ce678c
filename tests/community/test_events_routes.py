"""Event pages over HTTP: the list and its HTMX filters, signing up, tickets, no IDOR, the
organisers' pages, check-in links, iCalendar files and feeds, the CSV."""
import re
from datetime import timedelta

import pytest
from icalendar import Calendar

from jala import clock
from jala.community.events import calendars, checkin, signups
from jala.community.events import services as events
from jala.community.events.models import Event
from jala.extensions import db
from tests.support.factories import library_id, make_user
from tests.support.web import (
    HTMX,
    LIBRARY_CODES,
    as_user,
    main_of,
    other_client,
    post_form,
    visible_text,
)

DESCRIPTION = "主讲：**王教授**\n\n<script>alert('x')</script> [资料](javascript:alert(1))"


@pytest.fixture
def organiser(ctx):
    return make_user(library="NCU", roles=("librarian",), name="活动馆员")


@pytest.fixture
def other_librarian(ctx):
    return make_user(library="JXUFE", roles=("librarian",), name="别馆馆员")


def make_event(organiser, *, capacity=2, starts_in=timedelta(days=3), **fields):
    starts = clock.now() + starts_in
    values = {"title": "百家讲坛：宋词里的江西", "kind": "lecture", "description": DESCRIPTION,
              "starts_at": starts, "ends_at": starts + timedelta(hours=2),
              "place": "南昌大学图书馆报告厅", "capacity": capacity, "audience": "members",
              **fields}
    return events.create_event(organiser, library_id=library_id("NCU"), **values)


def post(client, path, data=None, **kwargs):
    return post_form(client, path, data or {}, token_from="/events", **kwargs)


# --- the list ---------------------------------------------------------------------------------

def test_anyone_sees_the_list_and_the_htmx_filter_answers_with_the_list_only(client, organiser):
    lecture = make_event(organiser)
    training = make_event(organiser, kind="training", title="数据库检索培训")
    page = client.get("/events").get_data(as_text=True)
    assert lecture.title in page and training.title in page and "<html" in page
    part = client.get("/events?kind=training&library=NCU", headers=HTMX | {
        "HX-Target": "event-list"}).get_data(as_text=True)
    assert "<html" not in part and 'id="event-list"' in part
    assert training.title in part and lecture.title not in part


def test_the_list_by_month_and_my_events(client, organiser, reader):
    mine = make_event(organiser, title="我报名的讲座")
    make_event(organiser, title="别的讲座")
    signups.sign_up(reader, mine.id)
    as_user(client, reader)
    page = client.get("/events?mine=1").get_data(as_text=True)
    assert "我报名的讲座" in page and "别的讲座" not in page
    month = mine.starts_at.astimezone(clock.SHANGHAI).strftime("%Y-%m")
    page = client.get(f"/events?month={month}").get_data(as_text=True)
    assert "我报名的讲座" in page and "别的讲座" in page
    assert client.get("/events?month=junk&kind=<b>&library=NOPE").status_code == 200


def test_readers_see_names_not_codes_and_markdown_is_neutralised(client, organiser):
    event = make_event(organiser)
    client.get("/?lang=zh_Hans")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    main = main_of(page)
    assert "<strong>王教授</strong>" in main
    assert "<script>" not in main and 'href="javascript' not in main
    assert not LIBRARY_CODES.search(visible_text(main))
    assert "南昌大学图书馆" in main and re.search(r"\d{4}年\d{1,2}月\d{1,2}日", main)


# --- signing up -------------------------------------------------------------------------------

def test_a_visitor_is_asked_to_log_in_to_sign_up(client, organiser):
    event = make_event(organiser)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "/login?next=" in page
    response = post_form(client, f"/events/{event.id}/sign-up", {})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_reader_signs_up_with_htmx_then_a_full_event_says_the_waiting_place(client, organiser,
                                                                            reader):
    event = make_event(organiser, capacity=1)
    as_user(client, reader)
    part = post(client, f"/events/{event.id}/sign-up", headers=HTMX).get_data(as_text=True)
    assert 'data-signup="confirmed"' in part and "<html" not in part
    second = other_client(client, make_user(library="JXAU"))
    response = post(second, f"/events/{event.id}/sign-up")
    assert response.status_code == 303
    page = second.get(f"/events/{event.id}").get_data(as_text=True)
    assert "number 1 on the waiting list" in page


def test_a_sign_up_without_a_csrf_token_is_refused(client, organiser, reader):
    event = make_event(organiser)
    as_user(client, reader)
    assert client.post(f"/events/{event.id}/sign-up").status_code == 400
    assert signups.registration_of(reader, event) is None


def test_the_ticket_shows_a_qr_code_of_the_signed_check_in_link(client, organiser, reader):
    event = make_event(organiser)
    registration = signups.sign_up(reader, event.id)
    as_user(client, reader)
    page = client.get(f"/events/tickets/{registration.id}").get_data(as_text=True)
    assert "<svg" in page and checkin.display_code(registration) in page


def test_a_reader_cannot_see_or_cancel_someone_elses_registration(client, organiser, reader):
    event = make_event(organiser)
    registration = signups.sign_up(reader, event.id)
    intruder = as_user(client, make_user(library="JXAU"))
    assert intruder.get(f"/events/tickets/{registration.id}").status_code == 404
    assert post(intruder, f"/events/tickets/{registration.id}/cancel").status_code == 404
    assert db.session.get(type(registration), registration.id).status == "confirmed"


def test_cancelling_through_the_page_moves_the_waiting_reader_up(client, organiser, reader):
    event = make_event(organiser, capacity=1)
    seat = signups.sign_up(reader, event.id)
    waiting_reader = make_user(library="JXAU")
    signups.sign_up(waiting_reader, event.id)
    as_user(client, reader)
    part = post(client, f"/events/tickets/{seat.id}/cancel", headers=HTMX).get_data(
        as_text=True)
    assert 'data-testid="sign-up"' in part
    assert signups.registration_of(waiting_reader, event).status == "confirmed"


# --- organisers -------------------------------------------------------------------------------

def test_a_librarian_creates_an_event_through_the_form(client, organiser):
    as_user(client, organiser)
    form = client.get("/events/new").get_data(as_text=True)
    assert "NCU" in form
    response = post_form(client, "/events/new", {
        "organiser": "NCU", "title": "读书月开幕式", "kind": "reading_month",
        "starts_at": "2031-04-01T14:30", "ends_at": "2031-04-01T16:00", "place": "图书馆大厅",
        "capacity": "80", "audience": "members", "audience_library": "",
        "description": "欢迎参加", "repeat": "", "sessions": ""}, token_from="/events/new")
    assert response.status_code == 303
    event = db.session.execute(db.select(Event).filter_by(title="读书月开幕式")).scalar_one()
    assert event.starts_at.astimezone(clock.SHANGHAI).strftime("%H:%M") == "14:30"


def test_a_bad_form_is_shown_again_with_the_message(client, organiser):
    as_user(client, organiser)
    response = post_form(client, "/events/new", {
        "organiser": "NCU", "title": "线上讲座", "kind": "lecture",
        "starts_at": "2031-04-01T14:30", "ends_at": "2031-04-01T16:00", "place": "",
        "online_url": "javascript:alert(1)", "capacity": "80", "audience": "members"},
        token_from="/events/new")
    assert response.status_code == 400
    assert "https://" in response.get_data(as_text=True)


def test_a_reader_cannot_open_the_organisers_pages(client, organiser, reader):
    event = make_event(organiser)
    as_user(client, reader)
    for path in ("/events/new", f"/events/{event.id}/edit", f"/events/{event.id}/door",
                 "/events/organise"):
        assert client.get(path).status_code == 403, path


def test_a_librarian_cannot_edit_cancel_or_check_in_another_librarys_event(
        client, organiser, other_librarian, reader):
    event = make_event(organiser, starts_in=timedelta(hours=1))
    registration = signups.sign_up(reader, event.id)
    as_user(client, other_librarian)
    assert client.get(f"/events/{event.id}/edit").status_code == 403
    assert post(client, f"/events/{event.id}/edit", {"title": "x"}).status_code == 403
    assert post(client, f"/events/{event.id}/cancel").status_code == 403
    assert client.get(f"/events/{event.id}/door").status_code == 403
    assert post(client, f"/events/{event.id}/door",
                {"code": registration.ticket_code}).status_code == 403
    link = f"/events/{event.id}/check-in/{checkin.check_in_token(registration)}"
    assert client.get(link).status_code == 403
    assert post(client, link).status_code == 403
    assert client.get("/events/organise?library=NCU").status_code == 403
    assert event.status == "scheduled" and registration.checked_in_at is None


def test_the_organiser_edits_and_cancels_and_everyone_is_emailed(client, organiser, reader):
    event = make_event(organiser)
    signups.sign_up(reader, event.id)
    as_user(client, organiser)
    form = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert event.title in form
    response = post_form(client, f"/events/{event.id}/cancel", {"reason": "场地维修"},
                         token_from=f"/events/{event.id}/edit")
    assert response.status_code == 303 and event.status == "cancelled"
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "场地维修" in page


# --- check-in ---------------------------------------------------------------------------------

@pytest.fixture
def seated(organiser, reader):
    event = make_event(organiser, starts_in=timedelta(hours=1))
    return event, signups.sign_up(reader, event.id)


def test_the_check_in_link_checks_in_once_and_says_so_the_second_time(client, organiser,
                                                                       seated, reader):
    event, registration = seated
    link = f"/events/{event.id}/check-in/{checkin.check_in_token(registration)}"
    as_user(client, organiser)
    page = client.get(link).get_data(as_text=True)
    assert reader.display_name in page and 'data-testid="check-in"' in page
    done = post(client, link).get_data(as_text=True)
    assert 'data-testid="checked-in"' in done and registration.checked_in_at is not None
    again = post(client, link)
    assert again.status_code == 409 and "already checked in" in again.get_data(as_text=True)


def test_a_forged_link_or_one_of_another_event_is_refused(client, organiser, seated):
    event, registration = seated
    other = make_event(organiser, starts_in=timedelta(hours=1), title="另一场")
    token = checkin.check_in_token(registration)
    as_user(client, organiser)
    forged = client.get(f"/events/{event.id}/check-in/{token[:-3]}abc")
    assert forged.status_code == 400 and "not valid" in forged.get_data(as_text=True)
    elsewhere = client.get(f"/events/{other.id}/check-in/{token}")
    assert elsewhere.status_code == 400 and "another event" in elsewhere.get_data(as_text=True)


def test_the_door_checks_in_by_typed_code_with_htmx(client, organiser, seated, reader):
    event, registration = seated
    as_user(client, organiser)
    part = post(client, f"/events/{event.id}/door",
                {"code": checkin.display_code(registration).lower()},
                headers=HTMX).get_data(as_text=True)
    assert "<html" not in part and f"{reader.display_name} is checked in" in part
    again = post(client, f"/events/{event.id}/door", {"code": registration.ticket_code},
                 headers=HTMX).get_data(as_text=True)
    assert "already checked in" in again
    wrong = post(client, f"/events/{event.id}/door", {"code": "ZZZZ-ZZZZ"})
    assert wrong.status_code == 400 and "No sign-up" in wrong.get_data(as_text=True)


def test_the_organisers_table_and_csv_count_sign_ups_and_attendance(client, organiser, seated):
    event, registration = seated
    checkin.check_in(organiser, registration)
    as_user(client, organiser)
    page = client.get("/events/organise").get_data(as_text=True)
    assert event.title in page
    year = event.starts_at.astimezone(clock.SHANGHAI).year
    # the statistics' figure: the check-in above, unless the event falls in next year
    attended = 1 if year == clock.local_today().year else 0
    assert f"Attendances at these events in {clock.local_today().year}: {attended} " in page
    csv = client.get("/events/organise.csv?library=NCU")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Date and time,Event,Kind of event,Organiser,Event status")
    assert "lecture" not in lines[1] and "upcoming" not in lines[1]
    assert lines[1].endswith(",2,1,0,1")


# --- calendars --------------------------------------------------------------------------------

def test_the_events_ics_reads_back_in_a_calendar_client(client, organiser):
    event = make_event(organiser)
    response = client.get(f"/events/{event.id}.ics")
    assert response.mimetype == "text/calendar"
    [vevent] = Calendar.from_ical(response.get_data()).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == event.title


def test_the_personal_feed_is_read_by_its_secret_address_only(client, organiser, reader):
    event = make_event(organiser)
    signups.sign_up(reader, event.id)
    as_user(client, reader)
    page = client.get("/events/calendar").get_data(as_text=True)
    token = calendars.feed_token(reader)
    assert f"/events/calendar/{token}.ics" in page
    anonymous = client.application.test_client()
    feed = anonymous.get(f"/events/calendar/{token}.ics")
    [vevent] = Calendar.from_ical(feed.get_data()).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == event.title
    post(client, "/events/calendar/regenerate")
    assert anonymous.get(f"/events/calendar/{token}.ics").status_code == 404


def test_staff_only_events_are_not_found_by_id_or_ics_for_others(client, organiser, reader):
    event = make_event(organiser, audience="staff", title="馆员培训")
    organisers_browser = other_client(client, organiser)
    readers_browser = other_client(client, reader)
    assert organisers_browser.get(f"/events/{event.id}").status_code == 200
    for path in (f"/events/{event.id}", f"/events/{event.id}.ics"):
        assert readers_browser.get(path).status_code == 404
        assert client.get(path).status_code == 404
    assert organisers_browser.get(f"/events/{event.id}.ics").status_code == 200


def test_the_online_link_shows_to_seat_holders_and_organisers_only(client, organiser, reader):
    url = "https://meeting.example.cn/room/42"
    event = make_event(organiser, capacity=1, online_url=url)
    assert url not in client.get(f"/events/{event.id}").get_data(as_text=True)
    ics = client.get(f"/events/{event.id}.ics")
    assert url not in ics.get_data(as_text=True).replace("\r\n ", "")
    assert ics.headers["Cache-Control"] == "private, no-store"
    readers_browser = other_client(client, reader)
    assert url not in readers_browser.get(f"/events/{event.id}").get_data(as_text=True)
    registration = signups.sign_up(reader, event.id)
    assert url in readers_browser.get(f"/events/{event.id}").get_data(as_text=True)
    ticket = readers_browser.get(f"/events/tickets/{registration.id}").get_data(as_text=True)
    assert url in ticket
    organisers_browser = other_client(client, organiser)
    assert url in organisers_browser.get(f"/events/{event.id}").get_data(as_text=True)


def test_the_feed_is_private_and_rate_limited_per_feed_not_per_address(client, organiser,
                                                                       reader):
    signups.sign_up(reader, make_event(organiser).id)
    token = calendars.feed_token(reader)
    other = make_user(library="JXUFE", name="另一位读者")
    other_token = calendars.feed_token(other)
    anonymous = client.application.test_client()
    for _i in range(120):
        assert anonymous.get(f"/events/calendar/{token}.ics").status_code == 200
    assert anonymous.get(f"/events/calendar/{token}.ics").status_code == 429
    feed = anonymous.get(f"/events/calendar/{other_token}.ics")  # same IP, another feed
    assert feed.status_code == 200
    assert feed.headers["Cache-Control"] == "private, no-store"


def test_the_centre_filter_is_center_in_the_list(client):
    page = client.get("/events?library=centre").get_data(as_text=True)
    assert 'value="center" selected' in page
