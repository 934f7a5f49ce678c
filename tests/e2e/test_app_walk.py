"""The whole portal walked on a 360×740 phone with the demo data: every reader page signed out
and signed in as the demo reader, every committee and chair page as the committee's chair.

Each page is loaded cold (no HTTP cache) and must: answer 200, fit 360 px, log no console
error, pass axe-core with no serious or critical violation, weigh ≤ 60 KB transferred
compressed with everything it loads, have exactly one h1, show the tab bar, and show no library
code and no stored value (``book``, ``on_loan``…) as text. Load times and sizes are written to
test-artifacts/walk.json (bench/pages.py prints them for any running portal).

The demo data is loaded for real on a database of its own, dropped afterwards.
"""
import json
import re
from types import SimpleNamespace
from urllib.parse import quote

import pyotp
import pytest
from sqlalchemy import select

from jala import clock
from jala.accounts.models import Library, User
from jala.catalog.models import Record
from jala.community.contest.models import ContestRound
from jala.community.events.models import Event, EventRegistration
from jala.community.news.models import News
from jala.community.recognition.models import BookList
from jala.delivery.models import DeliveryRequest
from jala.demo import DEMO_PASSWORD, seed_demo
from jala.extensions import db
from jala.governance.models import Meeting, MembershipApplication
from jala.loans.models import IllRequest
from jala.signon.providers import set_provider
from tests.support.app import make_app, migrate
from tests.support.browser import ARTIFACTS, screenshot, serving
from tests.support.walk import check_page, cold_phone, summary

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

READER = "reader@demo.jala"
COMMITTEE = "committee@demo.jala"

# GET pages of the reader's and the committee's blueprints that the walk does not open, and
# why; any other page must be walked (a new page joins the walk or this list).
NOT_WALKED = {
    "core.healthz": "JSON for load balancers", "core.healthz_live": "JSON for load balancers",
    "core.manifest": "JSON", "core.service_worker": "JavaScript", "core.favicon": "an image",
    "core.metrics": "Prometheus text, for monitoring only",
    "core.download_file": "a signed file link", "core.view_file": "a signed file link",
    "search.suggest": "an HTMX fragment", "search.opensearch": "XML",
    "search.api_search": "JSON API", "search.api_suggest": "JSON API",
    "search.api_record": "JSON API",
    "accounts.confirm_email": "a one-time link",
    "accounts.reset_password": "a one-time link", "accounts.registered": "after registering",
    "accounts.second_factor": "during login", "accounts.enrol_second_factor": "staff login",
    "accounts.account_second_factor": "staff account",
    "reading.cite_download": "a file", "reading.export_list": "a file",
    "reading.export_shared_list": "a file", "reading.preview_file": "a signed image",
    "reading.shared_list": "a share link", "reference.attachment": "a file",
    "delivery.download_page": "a one-time link",
    "governance.attendance": "an HTMX fragment",
    "governance.center_funding_csv": "a file",
    "admin.mail_message": "one email of the development mail sink",
    "catalog.import_status": "one upload's progress (the demo loads its records from the CLI)",
    "delivery.stats_download": "a file", "reference.stats_download": "a file",
    "procurement.stats_download": "a file",
    "loans.verify_card": "the desk's scan",
    "governance.center_funding_now": "a redirect to this year's figures",
    "reference.faq_entry": "a published answer (the demo has none yet)",
    "signon.start": "a redirect to the library's sign-in service",
    "signon.callback": "back from the library's sign-in service",
    "signon.finish": "back from the library's sign-in service", "signon.sp_metadata": "XML",
    "signon.signed_out": "after logging out of a campus sign-on",
    "protocols.new_acquisitions_feed": "an Atom or RSS feed (XML)",
    "protocols.live_holding_status": "an HTMX fragment (the record page loads it)",
    "signon.saml_logged_out": "the IdP's answer to a single logout",
    "delivery.journals_kbart": "a file",
    "community.news_feed": "an Atom or RSS feed (XML)",
    "community.event_ics": "an iCalendar file",
    "community.event_calendar_feed": "an iCalendar feed",
    "community.event_check_in": "the signed link in a ticket's QR code (the door's phone opens it)",
    "community.event_organise_csv": "a file",
    "community.book_list_find": "an HTMX fragment (the list editor loads it)",
    "community.contest_attempt": "during an attempt (a round's page starts it)",
    "usage.library_export": "a file", "usage.alliance_export": "a file",
    "procurement.joint_round": "a procurement round's page (the demo has no round yet)",
}
WALKED_BLUEPRINTS = ("core", "search", "catalog", "accounts", "mine", "reading", "loans",
                     "delivery", "reference", "procurement", "governance", "signon", "community")
# Staff pages: walked by test_every_staff_page_works_on_a_phone, not by the reader's walk.
STAFF_DESKS = re.compile(r"^/(libraries/[^/]+/(?!withdraw)|staff/|admin/|reference/(desk|stats)|"
                         r"delivery/stats|loans/verify|records/[^/]+/(raw|previews)$|"
                         r"reference/questions/[^/]+/faq|center/(applications|funding/|documents/)|"
                         r"news/(mine|write|[^/]+/edit)|events/(organise|new|[^/]+/(edit|door))|"
                         r"contest/(manage|new|[^/]+/edit)|booklists/(new|[^/]+/edit)|"
                         r"commendations/manage|procurement(/rounds)?$)")


@pytest.fixture(scope="module")
def demo_portal(postgres, redis_service, smtp, tmp_path_factory):
    url, name = postgres.create("jala_walk")
    migrate(url)
    app = make_app(url, redis_service, smtp, tmp_path_factory.mktemp("walk"))
    with app.app_context():
        seed_demo()
        # the login page as it is once a library offers campus sign-on (the walk never leaves)
        set_provider(None, "NCU", "cas", url="https://cas.ncu.example.edu.cn/cas")
        site = SimpleNamespace(**_reader_activity())
        site.codes = db.session.execute(select(Library.code)).scalars().all()
        site.secrets = dict(db.session.execute(
            select(User.email, User.totp_secret).where(User.totp_secret.is_not(None))).all())
        site.committee_secret = site.secrets[COMMITTEE]
        site.application = db.session.execute(
            select(MembershipApplication.id).limit(1)).scalar_one()
        site.ecjtu_request = db.session.execute(
            select(DeliveryRequest.id).join(Library, Library.id == DeliveryRequest.library_id)
            .where(Library.code == "ECJTU").limit(1)).scalar_one()
        site.jxufe_record = db.session.execute(
            select(Record.id).where(Record.library_ids.contains([_library_id("JXUFE")]))
            .order_by(Record.id).limit(1)).scalar_one()
        site.this_year = clock.local_today().year
        site.meeting = db.session.execute(select(Meeting.id).where(
            Meeting.status == "convened").order_by(Meeting.starts_at.desc())).scalars().first()
        site.in_session = db.session.execute(select(Meeting.id).where(
            Meeting.status == "convened").order_by(Meeting.starts_at)).scalars().first()
        site.held = db.session.execute(select(Meeting.id).where(
            Meeting.status == "closed")).scalars().first()
        site.news = db.session.execute(select(News.id).where(News.library_id.is_(None))
                                       .order_by(News.id)).scalars().first()
        site.library_news = db.session.execute(select(News.id).where(
            News.library_id.is_not(None))).scalars().first()
        site.event = db.session.execute(select(Event.id).where(Event.library_id.is_(None))
                                        ).scalars().first()
        site.library_event = db.session.execute(select(Event.id).where(
            Event.library_id.is_not(None)).order_by(Event.starts_at)).scalars().first()
        site.ticket = db.session.execute(
            select(EventRegistration.id).join(User, User.id == EventRegistration.user_id)
            .where(User.email == READER)).scalars().first()
        site.round = db.session.execute(select(ContestRound.id)).scalars().first()
        site.book_list = db.session.execute(select(BookList.id)).scalars().first()
        site.ill = db.session.execute(
            select(IllRequest.id).join(User, User.id == IllRequest.reader_id)
            .where(User.email == READER).limit(1)).scalar_one()
    with serving(app) as base:
        site.base, site.app = base, app
        yield site
    with app.app_context():
        db.engine.dispose()
    postgres.drop(name)


def _library_id(code):
    return db.session.execute(select(Library.id).where(Library.code == code)).scalar_one()


def _reader_activity():
    """What a reader who uses the portal has: a request, a question, a list, a suggestion."""
    from jala.accounts.services import find_user_by_email
    from jala.delivery.services import submit_request
    from jala.reading.lists import create_list, save_record
    from jala.reference.services import ask_question

    reader = find_user_by_email(READER)
    book = db.session.execute(select(Record).where(Record.type == "book")
                              .order_by(Record.id)).scalars().first()
    article = db.session.execute(select(Record).where(Record.type != "book")
                                 .order_by(Record.id)).scalars().first()
    request = submit_request(reader, kind="article", title=article.title, record_id=article.id)
    question = ask_question(reader, subject="如何查找学位论文？",
                            body="想找本省高校近五年的图书馆学硕士论文，从哪里开始？")
    saved = create_list(reader, "毕业论文参考")
    save_record(reader, book.id, saved.id)
    db.session.commit()
    return {"book": book.id, "article": article.id, "request": request.id,
            "question": question.id, "list": saved.id}


def _log_in(page, base, email, secret=None):
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    if secret:
        page.wait_for_url("**/login/code")
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        page.click("button[type=submit].primary")
    page.wait_for_url(base + "/")


def _walk(page, site, paths, reports, problems, staff=False):
    for path in paths:
        report = check_page(page, site.base, path, library_codes=site.codes, staff=staff,
                            expect_tab=path != "/offline", data_view=path.endswith("/raw"))
        reports.append(report)
        problems.extend(f"{path}: {p}" for p in report.problems)


def _endpoint(app, path):
    return app.url_map.bind("localhost").match(path.split("?")[0], method="GET")[0]


def test_every_reader_and_committee_page_works_on_a_phone(browser, demo_portal):
    site = demo_portal
    signed_out = ["/", "/search", "/search?q=" + quote("图书馆"),
                  "/search?q=" + quote("没有这样的书名zzqx"), f"/records/{site.book}",
                  f"/records/{site.article}", f"/records/{site.article}/cite",
                  f"/records/{site.book}/preview", "/libraries", "/libraries/NCU", "/login",
                  "/browse/clc", "/browse/clc/G25", "/login/campus", "/register",
                  "/password/forgot", "/reference/faq", "/join", "/chairs", "/offline",
                  "/community", "/news", f"/news/{site.news}", "/events",
                  f"/events/{site.event}", "/contest", f"/contest/{site.round}", "/booklists",
                  f"/booklists/{site.book_list}", "/commendations"]
    reader = ["/me", "/account", "/loans", "/loans/card", f"/loans/ill/{site.ill}",
              "/delivery/requests",
              f"/delivery/requests/{site.request}", "/delivery/new",
              "/delivery/new?q=" + quote("高校图书馆联盟研究"), f"/delivery/new?record={site.book}",
              "/reference/questions", f"/reference/questions/{site.question}",
              "/reference/ask", "/lists", f"/lists/{site.list}", "/purchase/suggest",
              "/purchase/suggestions", "/search?q=" + quote("数字图书馆"), f"/records/{site.book}",
              "/events/mine", f"/events/tickets/{site.ticket}", "/events/calendar",
              f"/contest/{site.round}"]
    committee = ["/me", "/committee", f"/committee/meetings/{site.meeting}",
                 f"/committee/meetings/{site.in_session}", f"/committee/meetings/{site.held}",
                 f"/committee/meetings/{site.held}/minutes",
                 "/committee/meetings/new", "/center/", "/center/handover",
                 "/center/groups", "/center/documents", "/chairs", "/libraries/JXUFE/withdraw",
                 "/commendations/nominate", "/stats", "/collections"]
    reports, problems = [], []
    page = cold_phone(browser)
    try:
        _walk(page, site, signed_out, reports, problems)
        _log_in(page, site.base, READER)
        _walk(page, site, reader, reports, problems)
        screenshot(page, "walk-reader-record-360")
        page.goto(site.base + "/me")
        screenshot(page, "walk-mine-360")
        page.context.clear_cookies()
        _log_in(page, site.base, COMMITTEE, site.committee_secret)
        _walk(page, site, committee, reports, problems)
        screenshot(page, "walk-committee-withdraw-360")
    finally:
        page.context.close()

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "walk.json").write_text(json.dumps(
        {"summary": summary(reports), "pages": [vars(r) for r in reports]},
        ensure_ascii=False, indent=1), encoding="utf-8")
    assert not problems, "pages a reader would stumble on:\n  " + "\n  ".join(problems)

    walked = {_endpoint(site.app, path) for path in signed_out + reader + committee}
    pages = {rule.endpoint for rule in site.app.url_map.iter_rules()
             if "GET" in rule.methods and rule.endpoint.split(".")[0] in WALKED_BLUEPRINTS
             and not STAFF_DESKS.match(rule.rule)}
    missing = sorted(pages - walked - set(NOT_WALKED))
    assert not missing, f"pages the walk does not open (walk them or say why not): {missing}"


def test_every_staff_page_works_on_a_phone(browser, demo_portal):
    """Librarians' desks, the reference desk, a library admin's and the portal admin's pages."""
    site = demo_portal
    year = site.this_year
    walks = {
        "librarian-ecjtu@demo.jala": [
            "/libraries/ECJTU/delivery", "/libraries/ECJTU/ill", "/libraries/ECJTU/cards",
            "/libraries/ECJTU/holds", "/libraries/ECJTU/union", "/libraries/ECJTU/purchase",
            "/libraries/ECJTU/purchase/stats", "/libraries/ECJTU/journals", "/staff/readers",
            "/loans/verify", "/delivery/stats", "/reference/stats",
            f"/delivery/requests/{site.ecjtu_request}", f"/loans/ill/{site.ill}",
            f"/records/{site.book}/raw"],
        "librarian@demo.jala": [
            "/news/mine", "/news/write", f"/news/{site.library_news}/edit", "/events/organise",
            "/events/new", f"/events/{site.library_event}/edit",
            f"/events/{site.library_event}/door", f"/events/{site.library_event}",
            "/booklists/new", f"/booklists/{site.book_list}/edit", "/cataloguing",
            "/cataloguing/submissions", "/cataloguing/submissions/new", "/collections/manage"],
        "reference@demo.jala": ["/reference/desk", f"/reference/questions/{site.question}",
                                f"/reference/questions/{site.question}/faq"],
        "libadmin@demo.jala": [
            "/libraries/JXUFE/people", "/libraries/JXUFE/imports",
            "/libraries/JXUFE/link-resolver",
            "/libraries/JXUFE/details", "/libraries/JXUFE/campus-sign-on",
            "/libraries/JXUFE/sip2", "/libraries/JXUFE/harvest", "/libraries/JXUFE/sushi",
            "/libraries/JXUFE/stats",
            f"/records/{site.jxufe_record}/previews"],
        "admin@demo.jala": [
            "/admin/", "/admin/audit", "/admin/settings", "/admin/outbox", "/admin/mail",
            "/center/applications", f"/center/applications/{site.application}",
            f"/center/funding/{year}", f"/center/documents/{year}/plan",
            "/contest/manage", "/contest/new", f"/contest/{site.round}/edit",
            "/procurement", "/procurement/rounds",
            "/commendations/manage", f"/news/{site.news}/edit", f"/events/{site.event}/edit"],
    }
    reports, problems, walked = [], [], []
    for email, paths in walks.items():
        page = cold_phone(browser)
        try:
            _log_in(page, site.base, email, site.secrets[email])
            _walk(page, site, paths, reports, problems, staff=True)
            walked += paths
        finally:
            page.context.close()
    (ARTIFACTS / "walk-staff.json").write_text(json.dumps(
        {"summary": summary(reports), "pages": [vars(r) for r in reports]},
        ensure_ascii=False, indent=1), encoding="utf-8")
    assert not problems, "pages staff would stumble on:\n  " + "\n  ".join(problems)

    desks = {rule.endpoint for rule in site.app.url_map.iter_rules()
             if "GET" in rule.methods and STAFF_DESKS.match(rule.rule)}
    missing = sorted(desks - {_endpoint(site.app, path) for path in walked} - set(NOT_WALKED))
    assert not missing, f"staff pages the walk does not open (walk them or say why not): {missing}"


def test_the_links_of_mine_all_lead_somewhere(browser, demo_portal):
    site = demo_portal
    page = cold_phone(browser)
    try:
        _log_in(page, site.base, READER)
        page.locator("nav.tabbar a", has_text="我的").click()
        page.wait_for_url("**/me")
        assert page.locator("nav.tabbar a[aria-current=page]").inner_text().strip().endswith("我的")
        hrefs = set(page.eval_on_selector_all("main a[href]", "els => els.map(a => a.href)"))
        assert len(hrefs) >= 10
        broken = [(href, status) for href in sorted(hrefs)
                  if (status := page.request.get(href).status) != 200]
        assert not broken
        assert page.locator("#deliveries .mine-list li").count() >= 1
        assert page.locator("#questions .mine-list li").count() == 1
        assert page.locator("#lists").get_by_text("毕业论文参考").is_visible()
    finally:
        page.context.close()


def test_back_after_opening_a_result_shows_the_whole_results_page(browser, demo_portal):
    site = demo_portal
    page = cold_phone(browser)
    try:
        page.goto(site.base + "/search")
        page.locator("#site-q").press_sequentially("图书馆", delay=350)
        page.wait_for_url("**q=" + quote("图书馆"))
        page.locator(".hit-title").first.click()
        page.wait_for_url("**/records/**")
        page.go_back()
        page.wait_for_url("**q=" + quote("图书馆"))
        page.locator(".hit-title").first.wait_for()
        assert page.locator("header.site-header #site-q").input_value() == "图书馆"
        assert page.locator("nav.tabbar").is_visible()
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background != "rgba(0, 0, 0, 0)", "the page's styles are there"
    finally:
        page.context.close()


def test_offline_the_app_shows_its_offline_page(browser, demo_portal):
    site = demo_portal
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(site.base + "/")
        page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller"
                               " || navigator.serviceWorker.ready.then(() => false)")
        page.reload()
        page.wait_for_function("!!navigator.serviceWorker.controller")
        context.set_offline(True)
        page.goto(site.base + "/libraries")
        assert page.locator("h1").inner_text() == "当前处于离线状态"
        context.set_offline(False)
        page.get_by_role("link", name="重试").click()
        page.wait_for_url(site.base + "/")
        assert page.locator("nav.tabbar").is_visible()
    finally:
        context.close()
