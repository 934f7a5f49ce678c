"""Events' rules: organising, signing up, the waiting list, reminders, check-in, calendars and
the figures."""
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from jala import clock
from jala.audit import AuditEntry
from jala.community.events import calendars, checkin, reminders, seats, signups
from jala.community.events import services as events
from jala.community.events.stats import events_attended_count, organiser_rows
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.jobs import _sweep_tasks
from tests.support.factories import library_id, make_portal_admin, make_user
from tests.support.mail import emails_to


@pytest.fixture
def language():
    """These tests read the rules' messages in English."""
    return "en"


@pytest.fixture
def organiser(ctx):
    return make_user(library="NCU", roles=("librarian",), name="活动馆员")


def make_event(organiser, *, library="NCU", capacity=2, starts_in=timedelta(days=3), **fields):
    """An event of ``library`` starting ``starts_in`` from now, two hours long."""
    starts = clock.now() + starts_in
    values = {"title": "百家讲坛：宋词里的江西", "kind": "lecture",
              "description": "主讲：**王教授**", "starts_at": starts,
              "ends_at": starts + timedelta(hours=2), "place": "南昌大学图书馆报告厅",
              "capacity": capacity, "audience": "members", **fields}
    return events.create_event(organiser, library_id=library_id(library) if library else None,
                               **values)


def readers(n, library="JXUFE"):
    return [make_user(library=library, name=f"读者{i}") for i in range(n)]


def audit_actions(object_id):
    return [e.action for e in db.session.execute(select(AuditEntry).where(
        AuditEntry.object_type == "event", AuditEntry.object_id == str(object_id))
        .order_by(AuditEntry.id)).scalars()]


# --- organising ---------------------------------------------------------------------------------

def test_library_staff_create_an_event_for_their_library_and_it_is_audited(organiser):
    event = make_event(organiser)
    assert event.status == "scheduled" and event.library.code == "NCU"
    assert event.signup_closes_at == event.starts_at
    assert audit_actions(event.id) == ["event.create"]


def test_staff_cannot_organise_for_another_library_or_the_centre(organiser):
    with pytest.raises(NotAllowed):
        make_event(organiser, library="JXUFE")
    with pytest.raises(NotAllowed):
        make_event(organiser, library=None)


def test_readers_cannot_organise(reader):
    with pytest.raises(NotAllowed):
        make_event(reader, library="JXUFE")


def test_the_centre_admins_organise_alliance_events(ctx):
    admin = make_portal_admin()
    event = make_event(admin, library=None)
    assert event.library_id is None
    assert events.organiser_name(event) == "Alliance management centre"


@pytest.mark.parametrize("fields, message", [
    ({"title": " "}, "title"),
    ({"kind": "party"}, "kind"),
    ({"place": "", "online_url": ""}, "where"),
    ({"online_url": "javascript:alert(1)"}, "web address"),
    ({"capacity": 0}, "seats"),
    ({"audience": "everyone"}, "sign up"),
])
def test_bad_event_details_are_refused_with_a_message(organiser, fields, message):
    with pytest.raises(RuleViolation) as refused:
        make_event(organiser, **fields)
    assert message in refused.value.message


def test_an_event_must_end_after_it_starts_and_start_in_the_future(organiser):
    with pytest.raises(RuleViolation, match="end after"):
        make_event(organiser, ends_at=clock.now() + timedelta(days=2))
    with pytest.raises(RuleViolation, match="future"):
        make_event(organiser, starts_in=timedelta(hours=-1))


def test_a_reading_club_is_a_series_of_weekly_sessions(organiser):
    first = make_event(organiser, kind="reading_club", title="红楼梦读书会", repeat="weekly",
                       sessions=4)
    sessions = events.series_sessions(first)
    assert len(sessions) == 4 and sessions[0].id == first.id
    gaps = {(b.starts_at - a.starts_at) for a, b in zip(sessions, sessions[1:], strict=False)}
    assert gaps == {timedelta(days=7)}
    assert all(s.signup_closes_at == s.starts_at for s in sessions)
    assert first.series.title == "红楼梦读书会"


def test_a_monthly_series_keeps_the_day_of_the_month(organiser):
    first = make_event(organiser, kind="reading_club", repeat="monthly", sessions=3)
    days = {s.starts_at.astimezone(clock.SHANGHAI).day for s in events.series_sessions(first)}
    assert len(days) == 1


def test_a_series_needs_two_sessions_or_more(organiser):
    with pytest.raises(RuleViolation, match="sessions"):
        make_event(organiser, repeat="weekly", sessions=1)


# --- signing up and the waiting list -----------------------------------------------------------

def test_readers_take_seats_then_join_the_waiting_list_and_are_told_their_place(organiser):
    event = make_event(organiser, capacity=2)
    a, b, c, d = readers(4)
    assert signups.sign_up(a, event.id).status == "confirmed"
    assert signups.sign_up(b, event.id).status == "confirmed"
    third = signups.sign_up(c, event.id)
    fourth = signups.sign_up(d, event.id)
    assert third.status == fourth.status == "waiting"
    assert seats.waiting_place(third) == 1 and seats.waiting_place(fourth) == 2


def test_signing_up_twice_keeps_one_registration(organiser, reader):
    event = make_event(organiser)
    first = signups.sign_up(reader, event.id)
    assert signups.sign_up(reader, event.id).id == first.id


def test_cancelling_a_seat_moves_the_first_waiting_reader_up_and_emails_them(organiser):
    event = make_event(organiser, capacity=1)
    a, b, c = readers(3)
    seat = signups.sign_up(a, event.id)
    signups.sign_up(b, event.id)
    signups.sign_up(c, event.id)
    signups.cancel_registration(a, seat.id)
    assert signups.registration_of(b, event).status == "confirmed"
    assert signups.registration_of(c, event).status == "waiting"
    assert seats.waiting_place(signups.registration_of(c, event)) == 1
    [mail] = emails_to(b.email, "event.moved_up")
    assert event.title in mail.body_text and "/events/tickets/" in mail.body_text
    assert emails_to(c.email) == []


def test_leaving_the_waiting_list_moves_nobody_up(organiser):
    event = make_event(organiser, capacity=1)
    a, b, c = readers(3)
    signups.sign_up(a, event.id)
    waiting = signups.sign_up(b, event.id)
    signups.sign_up(c, event.id)
    signups.cancel_registration(b, waiting.id)
    assert seats.waiting_place(signups.registration_of(c, event)) == 1
    assert emails_to(c.email) == []


def test_signing_up_again_after_cancelling_goes_to_the_back_of_the_queue(organiser):
    event = make_event(organiser, capacity=1)
    a, b = readers(2)
    seat = signups.sign_up(a, event.id)
    signups.sign_up(b, event.id)
    signups.cancel_registration(a, seat.id)
    again = signups.sign_up(a, event.id)
    assert again.id == seat.id and again.status == "waiting" and seats.waiting_place(again) == 1


def test_a_reader_cannot_cancel_someone_elses_registration(organiser):
    event = make_event(organiser)
    a, b = readers(2)
    seat = signups.sign_up(a, event.id)
    with pytest.raises(NotFound):
        signups.cancel_registration(b, seat.id)
    with pytest.raises(NotFound):
        signups.get_registration(b, seat.id)
    assert signups.registration_of(a, event).status == "confirmed"


def test_more_seats_move_the_waiting_list_up_and_fewer_than_taken_are_refused(organiser):
    event = make_event(organiser, capacity=1)
    a, b, c = readers(3)
    for person in (a, b, c):
        signups.sign_up(person, event.id)
    events.update_event(organiser, event.id, capacity=2)
    assert signups.registration_of(b, event).status == "confirmed"
    assert len(emails_to(b.email, "event.moved_up")) == 1
    with pytest.raises(RuleViolation, match="already hold a seat"):
        events.update_event(organiser, event.id, capacity=1)
    assert "event.edit" in audit_actions(event.id)


@pytest.mark.parametrize("audience, who, allowed", [
    ("members", "reader", True), ("members", "public", False),
    ("members", "unverified", False), ("staff", "reader", False), ("staff", "staff", True),
    ("library", "reader", False), ("library", "ncu_reader", True),
])
def test_the_audience_decides_who_may_sign_up(organiser, audience, who, allowed):
    event = make_event(organiser, audience=audience)
    person = {
        "reader": lambda: make_user(library="JXUFE"),
        "public": lambda: make_user(library=None),
        "unverified": lambda: make_user(library="JXUFE", verified=False),
        "staff": lambda: make_user(library="JXAU", roles=("librarian",)),
        "ncu_reader": lambda: make_user(library="NCU"),
    }[who]()
    if allowed:
        assert signups.sign_up(person, event.id).status == "confirmed"
    else:
        with pytest.raises(RuleViolation):
            signups.sign_up(person, event.id)


def test_sign_up_only_while_it_is_open(organiser, reader):
    now = clock.now()
    later = make_event(organiser, signup_opens_at=now + timedelta(days=1))
    with pytest.raises(RuleViolation, match="not opened"):
        signups.sign_up(reader, later.id)
    closed = make_event(organiser, signup_closes_at=now + timedelta(hours=1))
    clock.advance(timedelta(hours=2))
    with pytest.raises(RuleViolation, match="closed"):
        signups.sign_up(reader, closed.id)


def test_an_unconfirmed_email_cannot_sign_up(organiser):
    event = make_event(organiser)
    with pytest.raises(RuleViolation, match="Confirm your email"):
        signups.sign_up(make_user(library="JXUFE", confirmed=False), event.id)


# --- cancelling and changing an event ------------------------------------------------------------

def test_a_cancelled_event_emails_everyone_signed_up_and_refuses_sign_ups(organiser):
    event = make_event(organiser, capacity=1)
    a, b, c = readers(3)
    signups.sign_up(a, event.id)
    signups.sign_up(b, event.id)
    events.cancel_event(organiser, event.id, "主讲人临时有事")
    assert event.status == "cancelled"
    for person in (a, b):
        [mail] = emails_to(person.email, "event.cancelled")
        assert "主讲人临时有事" in mail.body_text
    with pytest.raises(RuleViolation, match="cancelled"):
        signups.sign_up(c, event.id)
    assert audit_actions(event.id)[-1] == "event.cancel"


def test_a_new_time_is_emailed_and_reminded_again(organiser, reader):
    event = make_event(organiser, starts_in=timedelta(hours=20))
    registration = signups.sign_up(reader, event.id)
    reminders.remind_event_participants()
    assert registration.reminded_at is not None
    new_start = event.starts_at + timedelta(hours=2)
    events.update_event(organiser, event.id, starts_at=new_start,
                        ends_at=new_start + timedelta(hours=2),
                        signup_closes_at=new_start)
    assert registration.reminded_at is None
    assert len(emails_to(reader.email, "event.changed")) == 1
    reminders.remind_event_participants()
    assert len(emails_to(reader.email, "event.reminder")) == 2


def test_a_librarian_cannot_edit_or_cancel_another_librarys_event(organiser):
    event = make_event(organiser)
    other = make_user(library="JXUFE", roles=("librarian",))
    with pytest.raises(NotAllowed):
        events.update_event(other, event.id, title="改过的标题")
    with pytest.raises(NotAllowed):
        events.cancel_event(other, event.id)
    assert event.title != "改过的标题" and event.status == "scheduled"


# --- reminders ----------------------------------------------------------------------------------

def test_the_reminder_goes_a_day_before_to_seats_only_and_once(organiser):
    event = make_event(organiser, capacity=1, starts_in=timedelta(days=2))
    a, b = readers(2)
    signups.sign_up(a, event.id)
    signups.sign_up(b, event.id)
    assert reminders.remind_event_participants() == 0
    clock.advance(timedelta(hours=25))
    assert reminders.remind_event_participants() == 1
    [mail] = emails_to(a.email, "event.reminder")
    assert event.title in mail.subject and "南昌大学图书馆报告厅" in mail.body_text
    assert reminders.remind_event_participants() == 0
    assert emails_to(b.email, "event.reminder") == []


def test_the_reminder_is_a_task_of_the_sweeper():
    assert reminders.remind_event_participants in _sweep_tasks


def test_no_reminder_for_a_cancelled_event(organiser, reader):
    event = make_event(organiser, starts_in=timedelta(hours=10))
    signups.sign_up(reader, event.id)
    events.cancel_event(organiser, event.id)
    assert reminders.remind_event_participants() == 0


# --- check-in -----------------------------------------------------------------------------------

@pytest.fixture
def seated(organiser, reader):
    event = make_event(organiser, starts_in=timedelta(hours=1))
    return event, signups.sign_up(reader, event.id)


def test_the_signed_link_checks_a_reader_in_once(organiser, seated):
    event, registration = seated
    token = checkin.check_in_token(registration)
    found = checkin.ticket_from_link(organiser, event.id, token)
    assert found.id == registration.id
    checkin.check_in(organiser, found)
    assert registration.checked_in_at is not None
    with pytest.raises(RuleViolation, match="already checked in") as twice:
        checkin.check_in(organiser, found)
    assert twice.value.status == 409
    assert "event.check_in" in audit_actions(event.id)


def test_a_forged_link_or_one_of_another_event_is_refused(organiser, seated, reader):
    event, registration = seated
    token = checkin.check_in_token(registration)
    with pytest.raises(RuleViolation, match="not valid"):
        checkin.ticket_from_link(organiser, event.id, token[:-2] + "xx")
    other = make_event(organiser, starts_in=timedelta(hours=1), title="另一场")
    with pytest.raises(RuleViolation, match="another event"):
        checkin.ticket_from_link(organiser, other.id, token)
    with pytest.raises(RuleViolation, match="No sign-up"):
        checkin.ticket_from_code(organiser, other.id, registration.ticket_code)


def test_the_typed_code_is_read_with_or_without_dash_and_case(organiser, seated):
    event, registration = seated
    typed = checkin.display_code(registration).lower()
    assert checkin.ticket_from_code(organiser, event.id, f" {typed} ").id == registration.id
    with pytest.raises(RuleViolation, match="ABCD-2345"):
        checkin.ticket_from_code(organiser, event.id, "123")


def test_a_librarian_of_another_library_cannot_check_in_its_attendees(seated):
    event, registration = seated
    other = make_user(library="JXUFE", roles=("librarian",))
    with pytest.raises(NotAllowed):
        checkin.ticket_from_link(other, event.id, checkin.check_in_token(registration))
    with pytest.raises(NotAllowed):
        checkin.check_in(other, registration)
    assert registration.checked_in_at is None


def test_the_waiting_list_and_early_arrivals_are_not_checked_in(organiser):
    event = make_event(organiser, capacity=1, starts_in=timedelta(hours=5))
    a, b = readers(2)
    seat = signups.sign_up(a, event.id)
    waiting = signups.sign_up(b, event.id)
    with pytest.raises(RuleViolation, match="three hours"):
        checkin.check_in(organiser, seat)
    clock.advance(timedelta(hours=3))
    with pytest.raises(RuleViolation, match="waiting list"):
        checkin.check_in(organiser, waiting)
    assert checkin.check_in(organiser, seat).checked_in_at is not None


# --- figures -------------------------------------------------------------------------------------

def test_attendance_counts_for_the_organising_library_and_year(organiser):
    event = make_event(organiser, capacity=3, starts_in=timedelta(hours=1))
    a, b, c = readers(3)
    for person in (a, b, c):
        signups.sign_up(person, event.id)
    for person in (a, b):
        checkin.check_in(organiser, signups.registration_of(person, event))
    year = event.starts_at.astimezone(clock.SHANGHAI).year
    assert events_attended_count(library_id("NCU"), year) == 2
    assert events_attended_count(library_id("NCU"), year - 1) == 0
    assert events_attended_count(library_id("JXUFE"), year) == 0
    [row] = organiser_rows(organiser, library_id("NCU"))
    assert (row["signed_up"], row["waiting"], row["attended"]) == (3, 0, 2)


def test_the_organiser_table_is_for_organisers_only(organiser, reader):
    make_event(organiser)
    with pytest.raises(NotAllowed):
        organiser_rows(reader, library_id("NCU"))


def test_upcoming_events_hide_staff_only_events_from_readers(organiser, reader):
    public = make_event(organiser)
    staff_only = make_event(organiser, audience="staff", title="馆员培训")
    assert [e.id for e in events.upcoming_events(user=reader)] == [public.id]
    assert {e.id for e in events.upcoming_events(user=organiser)} == {public.id, staff_only.id}


def test_the_list_filters_by_month_library_kind_and_mine(organiser, reader):
    lecture = make_event(organiser)
    training = make_event(organiser, kind="training", starts_in=timedelta(days=40))
    signups.sign_up(reader, training.id)
    month = lecture.starts_at.astimezone(clock.SHANGHAI).strftime("%Y-%m")
    ids = lambda found: [e.id for e in found]  # noqa: E731
    assert lecture.id in ids(events.find_events(reader, month=month))
    assert training.id not in ids(events.find_events(reader, month=month))
    assert ids(events.find_events(reader, library="NCU", kind="training")) == [training.id]
    assert ids(events.find_events(reader, library="JXUFE")) == []
    assert ids(events.find_events(reader, mine=True)) == [training.id]


# --- calendars -----------------------------------------------------------------------------------

def test_an_events_ics_reads_back(organiser):
    event = make_event(organiser)
    calendar = Calendar.from_ical(calendars.event_calendar(event))
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == event.title
    assert vevent.decoded("DTSTART") == event.starts_at.replace(microsecond=0)
    assert str(vevent["LOCATION"]) == "南昌大学图书馆报告厅"
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert "王教授" in str(vevent["DESCRIPTION"]) and "**" not in str(vevent["DESCRIPTION"])


def test_the_personal_feed_lists_my_events_and_marks_cancelled_ones(organiser, reader):
    kept = make_event(organiser, title="保留的讲座")
    dropped = make_event(organiser, title="取消的讲座")
    make_event(organiser, title="没报名的讲座")
    signups.sign_up(reader, kept.id)
    signups.sign_up(reader, dropped.id)
    events.cancel_event(organiser, dropped.id)
    token = calendars.feed_token(reader)
    calendar = Calendar.from_ical(calendars.personal_calendar(token, "我的活动"))
    status = {str(v["SUMMARY"]): str(v["STATUS"]) for v in calendar.walk("VEVENT")}
    assert status == {"保留的讲座": "CONFIRMED", "取消的讲座": "CANCELLED"}


def test_a_regenerated_feed_token_retires_the_old_address(reader):
    old = calendars.feed_token(reader)
    assert calendars.feed_token(reader) == old
    new = calendars.feed_token(reader, regenerate=True)
    assert new != old
    with pytest.raises(NotFound):
        calendars.personal_calendar(old, "x")


# --- review fixes: visibility, online link, reminders, times, the waiting list, the feed ---------

def test_staff_only_and_one_librarys_events_are_not_found_by_id_outside_their_audience(
        organiser, reader):
    staff_only = make_event(organiser, audience="staff", title="馆员培训")
    ncu_only = make_event(organiser, audience="library", title="南大读者专场")
    ncu_reader = make_user(library="NCU", name="南大读者")
    for event in (staff_only, ncu_only):
        with pytest.raises(NotFound):
            seats.get_event(event.id, None)
        with pytest.raises(NotFound):
            seats.get_event(event.id, reader)
        assert seats.get_event(event.id, organiser) is event
    assert seats.get_event(ncu_only.id, ncu_reader) is ncu_only
    with pytest.raises(NotFound):
        seats.get_event(staff_only.id, ncu_reader)
    assert ncu_only.id not in [e.id for e in events.find_events(reader)]
    assert ncu_only.id in [e.id for e in events.find_events(ncu_reader)]


def test_signing_up_again_within_a_day_does_not_remind_twice(organiser, reader):
    event = make_event(organiser, starts_in=timedelta(hours=20))
    registration = signups.sign_up(reader, event.id)
    assert reminders.remind_event_participants() == 1
    signups.cancel_registration(reader, registration.id)
    again = signups.sign_up(reader, event.id)
    assert again.id == registration.id and again.status == "confirmed"
    assert again.reminded_at is not None
    assert reminders.remind_event_participants() == 0
    assert len(emails_to(reader.email, "event.reminder")) == 1


def test_a_changed_start_must_be_in_the_future(organiser):
    event = make_event(organiser)
    past = clock.now() - timedelta(hours=1)
    with pytest.raises(RuleViolation, match="future"):
        events.update_event(organiser, event.id, starts_at=past,
                            ends_at=past + timedelta(hours=2), signup_closes_at=past)
    assert event.starts_at > clock.now()
    events.update_event(organiser, event.id, title="新标题")  # start unchanged: fine
    assert event.title == "新标题"


def test_a_seat_come_free_skips_waiting_readers_no_longer_eligible(organiser):
    event = make_event(organiser, capacity=1)
    holder, disabled, unverified, next_one = readers(4)
    signups.sign_up(holder, event.id)
    for user in (disabled, unverified, next_one):
        assert signups.sign_up(user, event.id).status == "waiting"
    disabled.disabled_at = clock.now()
    unverified.verified_at = None
    db.session.flush()
    signups.cancel_registration(holder, signups.registration_of(holder, event).id)
    assert signups.registration_of(next_one, event).status == "confirmed"
    assert signups.registration_of(disabled, event).status == "waiting"
    assert signups.registration_of(unverified, event).status == "waiting"
    assert emails_to(disabled.email, "event.moved_up") == []
    assert len(emails_to(next_one.email, "event.moved_up")) == 1


def test_the_online_link_is_for_seats_only_and_never_in_the_public_ics(organiser):
    event = make_event(organiser, capacity=1, place=None,
                       online_url="https://meeting.example.cn/room/42")
    seated, waiting = readers(2)
    signups.sign_up(seated, event.id)
    signups.sign_up(waiting, event.id)
    assert "meeting.example.cn" not in calendars.event_calendar(event).decode()
    for user, shown in ((seated, True), (waiting, False)):
        feed = calendars.personal_calendar(calendars.feed_token(user), "我的活动").decode()
        assert ("meeting.example.cn" in feed.replace("\r\n ", "")) is shown
    from jala.community.events.visibility import sees_online_link
    assert sees_online_link(seated, event, signups.registration_of(seated, event))
    assert not sees_online_link(waiting, event, signups.registration_of(waiting, event))
    assert sees_online_link(organiser, event)
    reminders.remind_event_participants()  # not yet: three days ahead
    clock.advance(timedelta(days=2, hours=1))
    reminders.remind_event_participants()
    [mail] = emails_to(seated.email, "event.reminder")
    assert "meeting.example.cn" in mail.body_text


def test_the_feed_keeps_only_a_hash_and_the_sealed_token(reader):
    from jala.community.events.models import EventCalendarFeed
    token = calendars.feed_token(reader)
    row = db.session.get(EventCalendarFeed, reader.id)
    assert row.token_hash == calendars.token_hash(token) and token not in row.token_sealed
    assert calendars.feed_token(reader) == token  # the page shows the same address again


def test_a_disabled_readers_feed_is_gone(organiser, reader):
    signups.sign_up(reader, make_event(organiser).id)
    token = calendars.feed_token(reader)
    reader.disabled_at = clock.now()
    db.session.flush()
    with pytest.raises(NotFound):
        calendars.personal_calendar(token, "x")


def test_the_centre_filter_is_center_and_old_centre_links_still_work(ctx, organiser):
    admin = make_portal_admin()
    centre_event = make_event(admin, library=None, title="联盟年会")
    make_event(organiser)
    assert events.CENTRE == "center"
    for word in ("center", "centre"):
        assert [e.id for e in events.find_events(None, library=word)] == [centre_event.id]


def test_the_organisers_csv_header_and_values_are_words(organiser):
    from jala.community.events.stats import csv_table
    make_event(organiser)
    rows, columns = csv_table(organiser_rows(organiser, library_id("NCU")))
    assert columns[:5] == ["Date and time", "Event", "Kind of event", "Organiser",
                           "Event status"]
    assert rows[0]["Kind of event"] == "Lecture" and rows[0]["Event status"] == "Upcoming"
