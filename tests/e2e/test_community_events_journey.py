"""At 360 px: a reader finds a lecture in the events list (HTMX filter), joins its waiting list
because the last seat is taken, is moved up when the reader holding it cancels, gets the moved-up
email and the day-before reminder through the outbox and the worker (the real SMTP sink), opens
the ticket from the email and shows its QR code; a librarian of the organising library opens
the check-in link the QR code holds on their phone and checks the reader in; checking in again
says so. A calendar client reads the event's .ics file and the reader's personal feed.
"""
import io
import re
from datetime import timedelta

import pytest
import segno
from icalendar import Calendar
from sqlalchemy import text

from jala import clock
from jala.accounts.models import User
from jala.community.events import checkin, signups
from jala.community.events import services as events
from jala.community.events.models import EventRegistration
from jala.extensions import db
from jala.jobs import run_worker, sweep
from tests.support.browser import fits_the_phone, log_in, new_phone, screenshot
from tests.support.factories import library_id, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

READER_EMAIL = "e2e-events-reader@example.edu.cn"
READER_NAME = "陶渊明"
HOLDER_EMAIL = "e2e-events-holder@example.edu.cn"
LIBRARIAN_EMAIL = "e2e-events-librarian@example.edu.cn"
TITLE = "百家讲坛：江右学风与白鹿洞书院"
TICKET_RE = re.compile(r"https?://\S+?(/events/tickets/\d+)")


@pytest.fixture
def events_setup(app, smtp, redis_service):
    """Committed: an NCU lecture in two and a half hours with one seat, held by another reader;
    the journey's reader (JXUFE) and an NCU librarian."""
    smtp.clear()
    redis_service.clear()
    with app.test_request_context("/"):
        librarian = make_user(library="NCU", roles=["librarian"], email=LIBRARIAN_EMAIL,
                              name="活动馆员")
        reader = make_user(library="JXUFE", email=READER_EMAIL, name=READER_NAME)
        holder = make_user(library="JXAU", email=HOLDER_EMAIL, name="占座读者")
        starts = clock.now() + timedelta(hours=2, minutes=30)
        event = events.create_event(
            librarian, library_id=library_id("NCU"), title=TITLE, kind="lecture",
            description="主讲：**李教授**。欢迎各馆读者。", starts_at=starts,
            ends_at=starts + timedelta(hours=2), place="南昌大学前湖校区图书馆报告厅",
            capacity=1, audience="members")
        seat = signups.sign_up(holder, event.id)
        ids = {"event": event.id, "reader": reader.id, "holder": holder.id,
               "librarian": librarian.id, "seat": seat.id}
        secret = librarian.totp_secret
        db.session.commit()
    yield {**ids, "totp_secret": secret}
    with app.app_context():  # the users stay (the audit log names them); the rest goes
        db.session.execute(text("DELETE FROM event_registrations WHERE event_id = :event"), ids)
        db.session.execute(text("DELETE FROM events WHERE id = :event"), ids)
        db.session.execute(text("DELETE FROM event_calendar_feeds WHERE user_id = :reader"), ids)
        db.session.execute(text("DELETE FROM outbox_emails WHERE object_type = 'event' "
                                "AND object_id = :i"), {"i": str(ids["event"])})
        db.session.commit()


def mail_to(smtp, address, words):
    """The plain-text body of the one message to ``address`` whose subject has ``words``."""
    [message] = [m for m in smtp.messages if m["To"] == address and words in m["Subject"]]
    return message.get_body(("plain",)).get_content()


def test_reader_waits_is_moved_up_reminded_and_checked_in_by_qr(
        app, live_server, browser, smtp, events_setup):
    base, ids = live_server, events_setup
    reader = new_phone(browser)
    librarian = new_phone(browser)
    console_errors = []  # CSP refusals (an inline style or script) show up here
    librarian.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    try:
        # --- the reader finds the lecture in the list, filtered by kind (HTMX) ---------------
        log_in(reader, base, READER_EMAIL)
        reader.goto(base + "/events")
        fits_the_phone(reader)
        reader.select_option("#event-filters select[name=kind]", "lecture")
        reader.wait_for_url(re.compile(r".*/events\?.*kind=lecture"))
        card = reader.locator(f"#event-{ids['event']}")
        card.wait_for()
        assert "1 个名额" in card.inner_text() and "南昌大学" in card.inner_text()
        screenshot(reader, "events-list-360")
        card.locator("h2 a").click()
        reader.wait_for_url(f"**/events/{ids['event']}")
        assert reader.locator(".event-description strong", has_text="李教授").is_visible()
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日",
                         reader.locator("[data-testid=event-when]").inner_text())
        fits_the_phone(reader)
        screenshot(reader, "events-detail-full-360")
        for link in reader.locator(".back-links a").all():  # 全部活动 · 我的活动: big enough
            assert link.bounding_box()["height"] >= 44

        # --- the last seat is taken: the reader joins the waiting list ---------------------
        reader.click("[data-testid=sign-up]")
        waiting = reader.locator("#signup [data-signup=waiting]")
        waiting.wait_for()
        assert "候补第 1 位" in waiting.inner_text()
        assert reader.url.endswith(f"/events/{ids['event']}")  # swapped in place
        fits_the_phone(reader)
        screenshot(reader, "events-waiting-360")

        # --- the reader holding the seat cancels: the waiting reader moves up ---------------
        with app.test_request_context("/"):
            signups.cancel_registration(db.session.get(User, ids["holder"]), ids["seat"])
            db.session.commit()
        reader.reload()
        assert reader.locator("#signup [data-signup=confirmed]").is_visible()

        # --- the sweeper writes the reminder; the worker sends both emails ------------------
        with app.app_context():
            assert sweep()["remind_event_participants"] == 1
            assert sweep()["remind_event_participants"] == 0  # never twice
        run_worker(app, burst=True)
        moved_up = mail_to(smtp, READER_EMAIL, "候补成功")
        reminder = mail_to(smtp, READER_EMAIL, "活动提醒")
        assert TITLE in reminder and "南昌大学前湖校区图书馆报告厅" in reminder
        assert not [m for m in smtp.messages if m["To"] == HOLDER_EMAIL]
        path = TICKET_RE.search(reminder).group(1)
        assert TICKET_RE.search(moved_up).group(1) == path

        # --- the reader opens the ticket from the email: a QR code of the check-in link -----
        reader.goto(base + path)
        qr = reader.locator("[data-testid=ticket-qr] svg")
        qr.wait_for()
        with app.test_request_context("/"):
            registration = db.session.get(EventRegistration, int(path.rsplit("/", 1)[1]))
            link = checkin.check_in_url(registration)
            code = checkin.display_code(registration)
        buffer = io.BytesIO()
        segno.make(link, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False,
                                         svgns=True)
        expected_path = re.search(r' d="([^"]+)"', buffer.getvalue().decode()).group(1)
        assert qr.locator("path").last.get_attribute("d") == expected_path  # the QR holds it
        assert reader.locator("[data-testid=ticket-code]").inner_text() == code
        fits_the_phone(reader)
        screenshot(reader, "events-ticket-360")

        # --- the librarian scans it: the link opens the check-in page on their phone --------
        log_in(librarian, base, LIBRARIAN_EMAIL, ids["totp_secret"])
        check_in_path = re.sub(r"^https?://[^/]+", "", link)
        librarian.goto(base + check_in_path)
        assert librarian.locator("[data-testid=reader-name]").inner_text() == READER_NAME
        fits_the_phone(librarian)
        screenshot(librarian, "events-check-in-360")
        librarian.click("[data-testid=check-in]")
        librarian.locator("[data-testid=checked-in]").wait_for()
        assert READER_NAME in librarian.locator("[data-testid=checked-in]").inner_text()
        librarian.goto(base + check_in_path)
        assert "已于" in librarian.locator("#check-in .notice").inner_text()
        librarian.goto(base + f"/events/{ids['event']}/door")
        assert "已签到 1 人" in librarian.locator("[data-testid=door-count]").inner_text()
        librarian.fill("#ticket-code", "XXXX-0000")  # a look-alike: named, with the format
        librarian.click(".door-code button[type=submit]")
        refusal = librarian.locator("#door .form-error")
        refusal.wait_for()
        assert "入场码不使用 0" in refusal.inner_text() and "ABCD-2345" in refusal.inner_text()
        assert console_errors == []
        fits_the_phone(librarian)
        screenshot(librarian, "events-door-360")
        reader.reload()
        assert reader.locator("[data-testid=checked-in]").is_visible()

        # --- the organiser's table counts it; the new-event form fits the phone too --------
        librarian.goto(base + "/events/organise")
        row = librarian.locator(f"#row-{ids['event']}")
        assert row.locator("[data-testid=attended]").inner_text() == "1"
        fits_the_phone(librarian)
        screenshot(librarian, "events-organise-360")
        librarian.goto(base + "/events/new")
        fits_the_phone(librarian)
        screenshot(librarian, "events-new-360")

        # --- a calendar client reads the event's file and the reader's personal feed -------
        ics = reader.request.get(base + f"/events/{ids['event']}.ics")
        [vevent] = Calendar.from_ical(ics.body()).walk("VEVENT")
        assert str(vevent["SUMMARY"]) == TITLE
        reader.goto(base + "/events/calendar")
        feed_url = reader.locator("#feed-url").input_value()
        fits_the_phone(reader)
        screenshot(reader, "events-calendar-360")
        feed = reader.request.get(base + re.sub(r"^https?://[^/]+", "", feed_url))
        titles = [str(v["SUMMARY"]) for v in Calendar.from_ical(feed.body()).walk("VEVENT")]
        assert titles == [TITLE]
    finally:
        reader.context.close()
        librarian.context.close()
