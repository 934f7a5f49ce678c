"""Delivery rules, without HTTP: routing, quotas, every step, timers."""
from datetime import date, timedelta

import pytest

from jala import clock
from jala.delivery import coverage, timers
from jala.delivery import services as delivery
from jala.delivery.models import DeliveryRequest
from jala.errors import RuleViolation
from jala.extensions import db
from jala.files import open_link
from jala.jobs import sweep
from jala.membership import get_library
from jala.settings import change_setting
from tests.support.factories import add_record, library_id, make_user
from tests.support.files import PDF, Upload
from tests.support.mail import emails_to


def ask_book(reader, record, pages="1-10"):
    return delivery.submit_request(reader, kind="book_part", title=record.title,
                                   record_id=record.id, pages=pages)


# --- routing ---------------------------------------------------------------------------------

def test_a_request_goes_to_a_holder_that_is_not_the_readers_library(reader, librarians):
    record = add_record("r1", ["JXUFE", "NCU"], page_count=300)
    req = ask_book(reader, record)
    assert req.status == "pending"
    assert req.library_id == library_id("NCU")
    assert req.rota == [library_id("NCU")]
    assert req.respond_by == req.routed_at + timedelta(hours=24)
    assert [e.kind for e in req.events] == ["submitted", "routed"]


def test_the_rota_puts_the_least_busy_holder_first(reader, librarians):
    record = add_record("r2", ["NCU", "ECJTU", "JXAU"], page_count=900)
    other = add_record("r3", ["NCU"], page_count=900)
    for _ in range(2):
        ask_book(make_user(library="JXUFE"), other)
    ask_book(make_user(library="JXUFE"), add_record("r4", ["JXAU"], page_count=100))
    req = ask_book(reader, record)
    assert req.rota == [library_id("ECJTU"), library_id("JXAU"), library_id("NCU")]


def test_nothing_to_route_to_is_refused_with_a_reason(reader):
    record = add_record("r5", ["JXUFE"], page_count=100)  # only the reader's own library
    with pytest.raises(RuleViolation, match="No other member library holds"):
        ask_book(reader, record)
    assert db.session.query(DeliveryRequest).filter_by(reader_id=reader.id).count() == 0


def test_a_withdrawn_library_is_not_asked(reader, librarians):
    record = add_record("r6", ["NCU", "JCU"], page_count=100)
    get_library("JCU").left_on = date(2025, 1, 1)
    req = ask_book(reader, record)
    assert req.rota == [library_id("NCU")]


def test_articles_are_routed_by_journal_coverage_and_year(reader, librarians):
    admin = make_user(library="NCU", roles=("library_admin",))
    coverage.save_coverage(admin, "NCU", issn="0378-5955", title="Hearing Research",
                           year_from="2000", year_to="2010")
    coverage.save_coverage(make_user(library="JXAU", roles=("librarian",)), "JXAU",
                           issn="03785955", year_from="2011")
    req = delivery.submit_request(reader, kind="article", title="On cochlear hair cells",
                                  issn="0378-5955", year=2005, pages="1-9")
    assert req.rota == [library_id("NCU")]
    req = delivery.submit_request(reader, kind="article", title="Later study",
                                  issn="0378-5955", year=2015)
    assert req.rota == [library_id("JXAU")]


def test_a_citation_with_a_known_isbn_finds_its_record(reader, librarians):
    record = add_record("r7", ["ECJTU"], isbn="978-7-111-54742-6", page_count=200)
    req = delivery.submit_request(reader, kind="book_part", title="typed by hand",
                                  isbn="9787111547426", pages="3-5")
    assert req.record_id == record.id and req.rota == [library_id("ECJTU")]


def test_bad_identifiers_and_pages_get_clear_messages(reader, librarians):
    with pytest.raises(RuleViolation, match="not a valid ISBN"):
        delivery.submit_request(reader, kind="book_part", title="x", isbn="123", pages="1-2")
    with pytest.raises(RuleViolation, match="not a valid ISSN"):
        delivery.submit_request(reader, kind="article", title="x", issn="1234-5678")
    record = add_record("r8", ["NCU"], page_count=100)
    with pytest.raises(RuleViolation, match="range"):
        ask_book(reader, record, pages="ten to twenty")
    with pytest.raises(RuleViolation, match="backwards"):
        ask_book(reader, record, pages="20-10")
    with pytest.raises(RuleViolation, match="100 pages"):
        ask_book(reader, record, pages="95-101")


# --- who may ask, and how much ---------------------------------------------------------------

def test_unverified_unconfirmed_and_withdrawn_readers_cannot_ask(ctx, librarians):
    record = add_record("r9", ["NCU"], page_count=100)
    with pytest.raises(RuleViolation, match="not been verified"):
        ask_book(make_user(library="JXUFE", verified=False), record)
    with pytest.raises(RuleViolation, match="Confirm your email"):
        ask_book(make_user(library="JXUFE", confirmed=False), record)
    former = make_user(library="JCU")
    get_library("JCU").left_on = date(2025, 1, 1)
    with pytest.raises(RuleViolation, match="left the alliance"):
        ask_book(former, record)


def test_daily_quota_for_readers_and_a_separate_one_for_public_users(reader, librarians):
    record = add_record("r10", ["NCU"], page_count=10000)
    for n in range(10):
        ask_book(reader, record, pages=f"{n * 10 + 1}-{n * 10 + 2}")
    with pytest.raises(RuleViolation, match="10 requests today"):
        ask_book(reader, record, pages="500-501")
    public = make_user(library=None)
    for n in range(3):
        ask_book(public, record, pages=f"{n + 1}")
    with pytest.raises(RuleViolation, match="3 requests today"):
        ask_book(public, record, pages="9")
    clock.advance(timedelta(days=1))
    assert ask_book(public, record, pages="9").status == "pending"


def test_pages_per_request_and_the_weekly_share_of_one_book(reader, librarians):
    record = add_record("r11", ["NCU"], page_count=300)  # 20 % = 60 pages a week
    with pytest.raises(RuleViolation, match="at most 50 pages"):
        ask_book(reader, record, pages="1-51")
    ask_book(reader, record, pages="1-50")
    with pytest.raises(RuleViolation, match="50 pages of it this week"):
        ask_book(reader, record, pages="51-61")
    ask_book(reader, record, pages="51-60")
    clock.advance(timedelta(days=8))
    assert ask_book(reader, record, pages="61-100").status == "pending"


def test_cancelled_requests_do_not_use_the_share(reader, librarians):
    record = add_record("r12", ["NCU"], page_count=100)
    first = ask_book(reader, record, pages="1-20")
    delivery.cancel_request(reader, first.id)
    assert ask_book(reader, record, pages="21-40").status == "pending"


def test_settings_change_the_limits(reader, librarians):
    admin = make_user(library="JXSTNU", roles=("portal_admin",))
    change_setting("delivery.pages_per_request", "5", admin)
    record = add_record("r13", ["NCU"], page_count=1000)
    with pytest.raises(RuleViolation, match="at most 5 pages"):
        ask_book(reader, record, pages="1-6")


# --- the library's steps ---------------------------------------------------------------------

def test_unknown_page_count_must_be_confirmed_before_accepting(reader, librarians):
    record = add_record("r14", ["NCU"])
    req = ask_book(reader, record, pages="1-40")
    ncu = librarians["NCU"]
    with pytest.raises(RuleViolation, match="page count is unknown"):
        delivery.accept_request(ncu, req.id)
    with pytest.raises(RuleViolation, match="20%"):
        delivery.accept_request(ncu, req.id, page_count=150)  # 40 > 30
    db.session.expire_all()
    req = db.session.get(DeliveryRequest, req.id)
    req.page_count = None  # the failed attempt is rolled back by the caller in real use
    accepted = delivery.accept_request(ncu, req.id, page_count=400)
    assert accepted.status == "accepted" and accepted.page_count == 400


def test_only_staff_of_the_library_it_is_at_can_act(reader, librarians):
    req = ask_book(reader, add_record("r15", ["NCU", "ECJTU"], page_count=100))
    at = req.library.code
    elsewhere = "ECJTU" if at == "NCU" else "NCU"
    for staff in (librarians[elsewhere], librarians["JXUFE"], make_user(library="NCU")):
        with pytest.raises(RuleViolation, match="not in your library's queue"):
            delivery.accept_request(staff, req.id)
    assert delivery.accept_request(librarians[at], req.id).status == "accepted"
    with pytest.raises(RuleViolation, match="already accepted"):
        delivery.accept_request(librarians[at], req.id)


def test_the_reader_cancels_only_before_acceptance_and_only_their_own(reader, librarians):
    req = ask_book(reader, add_record("r16", ["NCU"], page_count=100))
    with pytest.raises(RuleViolation, match="No such request"):
        delivery.cancel_request(make_user(library="JXUFE"), req.id)
    delivery.accept_request(librarians["NCU"], req.id)
    with pytest.raises(RuleViolation, match="can no longer be cancelled"):
        delivery.cancel_request(reader, req.id)


def test_fulfil_with_a_pdf_sends_a_signed_link(reader, librarians):
    req = ask_book(reader, add_record("r17", ["NCU"], page_count=100, title="图书馆学概论"))
    done = delivery.fulfil_request(librarians["NCU"], req.id, upload=Upload(PDF))
    assert done.status == "fulfilled" and [e.kind for e in done.events][-2:] == [
        "accepted", "fulfilled"]
    assert done.link.max_downloads == 20
    assert done.link.expires_at - clock.now() > timedelta(days=19, hours=23)
    assert done.file.delete_after == done.link.expires_at
    assert done.file.original_name.endswith("图书馆学概论.pdf")
    [email] = emails_to(reader.email)
    assert email.kind == "delivery.fulfilled" and "/delivery/download/" in email.body_text
    token = email.body_text.split("/delivery/download/")[1].split()[0]
    link, path = open_link(token)
    assert path.read_bytes() == PDF and link.downloads == 1


def test_fulfil_refuses_a_file_that_is_not_a_pdf_and_changes_nothing(reader, librarians):
    req = ask_book(reader, add_record("r18", ["NCU"], page_count=100))
    with pytest.raises(RuleViolation, match="not a valid PDF"):
        delivery.fulfil_request(librarians["NCU"], req.id,
                                upload=Upload(b"\x89PNG\r\n\x1a\n....", "looks.pdf"))
    with pytest.raises(RuleViolation, match="https://"):
        delivery.fulfil_request(librarians["NCU"], req.id, url="javascript:alert(1)")
    with pytest.raises(RuleViolation, match="one of the two"):
        delivery.fulfil_request(librarians["NCU"], req.id)


def test_fulfil_with_a_url(reader, librarians):
    req = ask_book(reader, add_record("r19", ["NCU"], page_count=100))
    done = delivery.fulfil_request(librarians["NCU"], req.id, url="https://oa.example.org/a.pdf")
    assert done.url == "https://oa.example.org/a.pdf"
    assert "https://oa.example.org/a.pdf" in emails_to(reader.email)[0].body_text


def test_passing_on_moves_along_the_rota_then_ends_unfilled(reader, librarians):
    req = ask_book(reader, add_record("r20", ["NCU", "ECJTU"], page_count=100))
    first, second = req.rota
    codes = {library_id(c): c for c in ("NCU", "ECJTU")}
    delivery.reject_request(librarians[codes[first]], req.id, "Missing from the shelf")
    assert req.status == "pending" and req.library_id == second
    assert emails_to(reader.email) == []
    delivery.reject_request(librarians[codes[second]], req.id, "Damaged copy")
    assert req.status == "unfilled" and req.finished_at is not None
    [email] = emails_to(reader.email)
    assert email.kind == "delivery.unfilled"
    kinds = [e.kind for e in req.events]
    assert kinds == ["submitted", "routed", "passed", "routed", "passed", "unfilled"]


def test_declining_for_good_tells_the_reader_why(reader, librarians):
    req = ask_book(reader, add_record("r21", ["NCU", "ECJTU"], page_count=100))
    staff = librarians["NCU" if req.library.code == "NCU" else "ECJTU"]
    with pytest.raises(RuleViolation, match="give a reason"):
        delivery.reject_request(staff, req.id, "  ")
    delivery.reject_request(staff, req.id, "Citation does not match any article", final=True)
    assert req.status == "refused"
    [email] = emails_to(reader.email)
    assert "Citation does not match any article" in email.body_text


def test_bulk_accept_reports_the_ones_it_could_not_do(reader, librarians):
    record = add_record("r22", ["NCU"], page_count=1000)
    unknown = add_record("r23", ["NCU"])
    ids = [ask_book(make_user(library="JXUFE"), record).id for _ in range(3)]
    bad = ask_book(reader, unknown).id
    done, failed = delivery.bulk_action(librarians["NCU"], "accept", ids + [bad, 999999])
    assert sorted(r.id for r in done) == ids
    assert [i for i, _m in failed] == [bad, 999999]
    assert db.session.get(DeliveryRequest, bad).status == "pending"


# --- timers ------------------------------------------------------------------------------------

def test_an_unanswered_request_moves_on_after_the_response_time(reader, librarians, app):
    req = ask_book(reader, add_record("r24", ["NCU", "ECJTU"], page_count=100))
    first, second = req.rota
    clock.advance(timedelta(hours=23))
    timers.reroute_overdue_requests()
    assert req.library_id == first
    clock.advance(timedelta(hours=1, seconds=1))
    assert timers.reroute_overdue_requests() == 1
    assert req.library_id == second and req.status == "pending"
    clock.advance(timedelta(hours=25))
    timers.reroute_overdue_requests()
    assert req.status == "unfilled"
    assert [e.kind for e in req.events][-2:] == ["timed_out", "unfilled"]
    assert emails_to(reader.email)[0].kind == "delivery.unfilled"


def test_an_accepted_request_left_unsent_reminds_the_library_once(reader, librarians):
    req = ask_book(reader, add_record("r25", ["NCU"], page_count=100))
    delivery.accept_request(librarians["NCU"], req.id)
    clock.advance(timedelta(hours=25))
    timers.reroute_overdue_requests()
    timers.reroute_overdue_requests()
    reminders = emails_to(librarians["NCU"].email)
    assert [e.kind for e in reminders] == ["delivery.reminder"]
    assert req.status == "accepted" and req.reminded_at is not None


# --- journal coverage ------------------------------------------------------------------------

def test_coverage_csv_keeps_good_lines_and_reports_bad_ones_by_number(ctx):
    staff = make_user(library="NCU", roles=("librarian",))
    csv_text = ("issn,title,year_from,year_to\n"
                "0378-5955,Hearing Research,1990,\n"
                "1234-5678,Bad checksum,2000,2001\n"
                "0028-0836,Nature,2010,2001\n"
                "\n"
                "1476-4687,Nature online,,\n")
    saved, errors = coverage.import_coverage_csv(staff, "NCU", csv_text.encode("utf-8"))
    assert saved == 2
    assert [n for n, _r in errors] == [3, 4]
    assert "not a valid ISSN" in errors[0][1] and "backwards" in errors[1][1]
    # loading again updates instead of duplicating
    saved, errors = coverage.import_coverage_csv(staff, "NCU", csv_text.encode("utf-8"))
    library, rows = coverage.coverage_of(staff, "NCU")
    assert [r.issn for r in rows] == ["0378-5955", "1476-4687"]


def test_coverage_belongs_to_the_library_staff(ctx):
    outsider = make_user(library="JXAU", roles=("librarian",))
    with pytest.raises(RuleViolation, match="Only staff of "):
        coverage.save_coverage(outsider, "NCU", issn="0378-5955")


def test_sweep_runs_the_delivery_timer(app, reader, librarians):
    from jala.jobs import _sweep_tasks

    assert timers.reroute_overdue_requests in _sweep_tasks
    assert "reroute_overdue_requests" in {t.__name__ for t in _sweep_tasks}
    assert callable(sweep)
