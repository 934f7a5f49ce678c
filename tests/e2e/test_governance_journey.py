"""At 360 px: a library applies to join on the public form and the management center finds the
application complete; three committee members (no chair or vice-chair) request a meeting
jointly, the presiding member puts the application on the agenda, all check in and vote
(2 for, 1 against: exactly two thirds) with HTMX, the vote closes and the library is admitted,
the meeting closes and the minutes show the tally.

This journey commits for real on a database of its own (``private_app``), dropped afterwards:
the admission writes audit entries about the new library, and the audit log is append-only,
so the library could not be removed from the shared test database (other tests count the 15
member libraries), and committee seats are unique per library.
"""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.accounts.models import Library
from jala.extensions import db, limiter
from jala.governance.models import AgendaItem, Meeting, MembershipApplication, Vote
from jala.membership import current_chair_library
from tests.support.browser import (
    fits_the_phone,
    log_in,
    new_phone,
    open_menu_link,
    open_mine_link,
    screenshot,
    serving,
)
from tests.support.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

MEMBERS = {  # the committee seats: none holds an office, so they convene jointly
    "JXAU": ("e2e-gov-jxau@example.edu.cn", "江农馆长"),
    "NCHU": ("e2e-gov-nchu@example.edu.cn", "昌航馆长"),
    "ECUT": ("e2e-gov-ecut@example.edu.cn", "东理馆长"),
}
ADMIN_EMAIL = "e2e-gov-admin@example.edu.cn"
CODE = "E2EGOV"
LIBRARY_NAME = "赣南端到端学院图书馆"
APPLICANT_EMAIL = "e2e-gov-applicant@example.edu.cn"
MEETING_TITLE = "委员会第二十次会议（端到端）"
MINUTES_NOTE = "同意接纳赣南端到端学院图书馆为成员馆。"
LETTER_HTML = ("<html><body style='font-family:serif'><h1>入盟申请书</h1>"
               "<p>赣南端到端学院图书馆申请加入江西省高校图书馆联盟。</p>"
               "<p>馆长（签字）、公章</p></body></html>")


def numbers(text):
    return [int(n) for n in re.findall(r"\d+", text)]


@pytest.fixture
def governance_site(private_app):
    """Committed on a private database: committee members at three libraries (TOTP), a portal
    admin at the chair library; the app served on loopback."""
    with private_app.app_context():
        limiter.reset()  # /join allows 10 posts an hour per address, and Redis is shared
        chair = current_chair_library().code
        admin = make_user(library=chair, roles=["portal_admin"], email=ADMIN_EMAIL,
                          name="中心管理员")
        totp_secrets = {ADMIN_EMAIL: admin.totp_secret}
        library_ids = {}
        for code, (email, name) in MEMBERS.items():
            member = make_user(library=code, roles=["committee_member"], email=email, name=name)
            totp_secrets[email] = member.totp_secret
            library_ids[code] = member.home_library_id
        db.session.commit()
    with serving(private_app) as base:
        yield {"base": base, "secrets": totp_secrets, "library_ids": library_ids}


DIALOGS = {}  # id(page) -> the questions its confirm dialogs asked (each one accepted)


def staff_phone(browser, site, email, pages):
    """A phone (kept in ``pages`` to be closed) on which ``email`` has logged in with TOTP;
    it says yes to every confirmation it is asked for, and keeps the questions."""
    page = new_phone(browser)
    pages.append(page)
    asked = DIALOGS.setdefault(id(page), [])
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    log_in(page, site["base"], email, site["secrets"][email])
    return page


def tap_and_stay(page, button, settled):
    """Tap an HTMX button; ``settled`` (a selector) appears; the page was not reloaded."""
    page.evaluate("window.__stillHere = true")
    page.locator(button).click()
    page.locator(settled).wait_for()
    assert page.evaluate("window.__stillHere === true"), "the page reloaded instead of a swap"


def test_committee_admits_a_library_at_a_jointly_requested_meeting_on_phones(
        private_app, browser, governance_site):
    site = governance_site
    base = site["base"]
    a_email, b_email, c_email = (MEMBERS[code][0] for code in ("JXAU", "NCHU", "ECUT"))
    pages = []
    try:
        # --- a library applies on the public form, with its letter as a PDF --------------
        applicant = new_phone(browser)
        pages.append(applicant)
        letter = applicant.context.new_page()
        letter.set_content(LETTER_HTML)
        pdf = letter.pdf(format="A4")
        letter.close()
        assert pdf.startswith(b"%PDF")
        applicant.goto(base + "/libraries")
        applicant.click("main a[href='/join']")
        applicant.wait_for_url("**/join")
        applicant.fill("input[name=name_zh]", LIBRARY_NAME)
        applicant.fill("input[name=name_en]", "Gannan E2E College Library")
        applicant.fill("input[name=code]", CODE.lower())  # capitalised by the service
        applicant.fill("input[name=city]", "赣州")
        applicant.fill("input[name=contact_name]", "赵馆长")
        applicant.fill("input[name=contact_email]", APPLICANT_EMAIL)
        applicant.fill("input[name=contact_phone]", "0797-1234567")
        applicant.locator("input[type=file][name=letter]").set_input_files(
            {"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": pdf})
        fits_the_phone(applicant)
        screenshot(applicant, "governance-join-360")
        applicant.click("main form button[type=submit].primary")
        applicant.locator("main a[href='/libraries']").wait_for()
        assert applicant.url.endswith("/join")
        with private_app.app_context():
            application = db.session.execute(select(MembershipApplication).where(
                MembershipApplication.code == CODE)).scalar_one()
            application_id, status = application.id, application.status
        assert status == "submitted"
        assert str(application_id) in applicant.locator("main").inner_text()
        fits_the_phone(applicant)
        screenshot(applicant, "governance-applied-360")

        # --- a portal admin of the chair library finds it complete ------------------------
        admin = staff_phone(browser, site, ADMIN_EMAIL, pages)
        open_menu_link(admin, "/committee")
        admin.click("main a[href='/center/applications']")
        admin.wait_for_url("**/center/applications")
        fits_the_phone(admin)
        admin.click(f"main a[href='/center/applications/{application_id}']")
        admin.wait_for_url(f"**/center/applications/{application_id}")
        assert CODE in admin.locator("dl.facts").inner_text()
        letter_href = admin.locator("dl.facts a[href*='/files/']").get_attribute("href")
        letter_path = "/files/" + letter_href.split("/files/", 1)[1]  # PUBLIC_URL differs
        download = admin.request.get(base + letter_path)
        assert download.ok and download.body() == pdf
        assert admin.is_checked("input[name=decision][value=complete]")
        fits_the_phone(admin)
        screenshot(admin, "governance-application-360")
        admin.click("main form button[type=submit].primary")
        admin.wait_for_url(f"**/center/applications/{application_id}")
        assert admin.locator("input[name=decision]").count() == 0  # reviewed
        with private_app.app_context():
            assert db.session.get(MembershipApplication, application_id).status == "complete"

        # --- member A requests a meeting: 1 of 3 signatures --------------------------------
        member_a = staff_phone(browser, site, a_email, pages)
        open_menu_link(member_a, "/committee")
        assert member_a.locator(".badge", has_text="南昌航空大学").count() == 1  # the members
        fits_the_phone(member_a)
        screenshot(member_a, "governance-committee-360")
        member_a.click("main a.button.primary[href='/committee/meetings/new']")
        member_a.wait_for_url("**/committee/meetings/new")
        assert member_a.locator("input[name=how]").count() == 0  # no office: joint only
        # check-in opens an hour before the start: the meeting begins in half an hour
        starts = (clock.now() + timedelta(minutes=30)).astimezone(clock.SHANGHAI)
        member_a.fill("input[name=title]", MEETING_TITLE)
        assert member_a.get_attribute("input[name=starts_at]", "type") == "datetime-local"
        member_a.fill("input[name=starts_at]", starts.strftime("%Y-%m-%dT%H:%M"))
        member_a.fill("input[name=place]", "江西农业大学图书馆报告厅")
        fits_the_phone(member_a)
        screenshot(member_a, "governance-meeting-new-360")
        member_a.click("main form button[type=submit].primary")
        member_a.wait_for_url(re.compile(r".*/committee/meetings/\d+$"))
        meeting_id = int(member_a.url.rsplit("/", 1)[1])
        meeting_path = f"/committee/meetings/{meeting_id}"
        assert numbers(member_a.locator("h1 .badge.warn").inner_text()) == [1, 3]
        facts = member_a.locator("dl.facts").inner_text()
        assert f"{starts.year}年{starts.month}月{starts.day}日" in facts
        assert starts.strftime("%H:%M") in facts
        assert member_a.locator("form[action$='/sign']").count() == 0  # signed already
        fits_the_phone(member_a)
        screenshot(member_a, "governance-meeting-requested-360")

        # --- B and C co-sign; C's signature convenes it ------------------------------------
        member_b = staff_phone(browser, site, b_email, pages)
        member_c = staff_phone(browser, site, c_email, pages)
        for signer, signatures in ((member_b, 2), (member_c, 3)):
            open_menu_link(signer, "/committee")
            signer.click(f"main a[href='{meeting_path}']")
            signer.wait_for_url("**" + meeting_path)
            signer.click(f"form[action='{meeting_path}/sign'] button[type=submit]")
            signer.wait_for_url("**" + meeting_path)
            assert signer.locator(".flash-success").count() == 1
            assert signer.locator("form[action$='/sign']").count() == 0
            if signatures < 3:
                assert numbers(signer.locator("h1 .badge.warn").inner_text()) == [2, 3]
        assert member_c.locator("h1 .badge.ok").is_visible()  # convened
        assert MEMBERS["JXAU"][1] in member_c.locator("dl.facts").inner_text()  # presides
        fits_the_phone(member_c)
        screenshot(member_c, "governance-meeting-convened-360")
        with private_app.app_context():
            meeting = db.session.get(Meeting, meeting_id)
            assert (meeting.status, meeting.convened_via) == ("convened", "joint")

        # --- the presiding member (A) or a portal admin prepares the agenda ----------------
        admin.goto(base + meeting_path)
        assert admin.locator(f"form[action='{meeting_path}/items']").count() == 1
        assert admin.locator(f"form[action='{meeting_path}/check-in']").count() == 0  # no seat
        member_b.reload()
        assert member_b.locator(f"form[action='{meeting_path}/items']").count() == 0
        assert member_b.locator(f"form[action='{meeting_path}/close']").count() == 0
        member_a.reload()
        add = member_a.locator("details", has=member_a.locator(
            f"form[action='{meeting_path}/items']"))
        add.locator("summary").click()
        member_a.select_option("select[name=kind]", "application")
        member_a.select_option("select[name=application_id]", str(application_id))
        fits_the_phone(member_a)
        screenshot(member_a, "governance-agenda-add-360")
        add.locator("button[type=submit]").click()
        member_a.wait_for_url(re.compile(rf".*{meeting_path}#item-\d+$"))
        item_id = int(member_a.url.rsplit("-", 1)[1])
        item = f"#item-{item_id}"
        assert LIBRARY_NAME in member_a.locator(f"{item} h3").inner_text()
        assert member_a.locator(
            f"{item} a[href='/center/applications/{application_id}']").is_visible()
        assert member_a.locator(f"{item} form.vote").count() == 0  # not checked in yet

        # --- everyone checks in (two in person, one online) -----------------------------
        for page, mode in ((member_a, "in_person"), (member_b, "in_person"),
                           (member_c, "online")):
            page.goto(base + meeting_path)
            page.click(f"form[action='{meeting_path}/check-in'] button[value={mode}]")
            page.wait_for_url("**" + meeting_path)
            assert page.locator(f"form[action='{meeting_path}/check-in']").count() == 0
            page.locator(f"{item} form.vote").wait_for()
        assert numbers(member_c.locator("main section.card p", has=member_c.locator(
            "span.badge", has_text="江西农业大学")).first.inner_text()) == [3]
        assert member_b.locator(f"{item} form[action$='/close']").count() == 0  # not presiding

        # --- two for, one against, through HTMX swaps -------------------------------------
        for page, choice in ((member_a, "yes"), (member_b, "yes"), (member_c, "no")):
            tap_and_stay(page, f"{item} form.vote button[value={choice}]",
                         f"{item} button[value={choice}][aria-pressed=true]")
            assert page.locator(f"{item} button[aria-pressed=true]").count() == 1
        fits_the_phone(member_c)
        screenshot(member_c, "governance-voted-360")

        # A changes their vote and changes it back: still one vote per library
        tap_and_stay(member_a, f"{item} form.vote button[value=abstain]",
                     f"{item} button[value=abstain][aria-pressed=true]")
        assert member_a.get_attribute(f"{item} button[value=yes]", "aria-pressed") == "false"
        tap_and_stay(member_a, f"{item} form.vote button[value=yes]",
                     f"{item} button[value=yes][aria-pressed=true]")
        assert member_a.get_attribute(f"{item} button[value=abstain]", "aria-pressed") == "false"
        assert numbers(member_a.locator(f"{item} p:has(+ form.vote)").inner_text()) == [3]
        with private_app.app_context():
            votes = dict(db.session.execute(select(Vote.library_id, Vote.choice).where(
                Vote.item_id == item_id)).all())
        ids = site["library_ids"]
        assert votes == {ids["JXAU"]: "yes", ids["NCHU"]: "yes", ids["ECUT"]: "no"}
        fits_the_phone(member_a)
        screenshot(member_a, "governance-vote-360")

        # --- A closes the vote (after the confirm dialog): 2 of 3 attending passes --------
        dialogs = DIALOGS[id(member_a)]
        dialogs.clear()
        tap_and_stay(member_a, f"{item} form[action='/committee/items/{item_id}/close'] button",
                     f"{item} [data-result=passed]")
        assert len(dialogs) == 1 and dialogs[0]
        assert numbers(member_a.locator(f"{item} .tally").inner_text()) == [2, 1, 0, 3]
        assert member_a.locator(f"{item} form").count() == 0
        fits_the_phone(member_a)
        screenshot(member_a, "governance-vote-closed-360")
        member_c.reload()  # the others see the result on their next load
        assert member_c.locator(f"{item} [data-result=passed]").is_visible()
        assert member_c.locator(f"{item} form.vote").count() == 0
        with private_app.app_context():
            closed = db.session.get(AgendaItem, item_id)
            assert (closed.yes, closed.no, closed.abstain, closed.attending, closed.passed) == (
                2, 1, 0, 3, True)
            admitted = db.session.get(MembershipApplication, application_id)
            assert admitted.status == "admitted"
            library = db.session.execute(select(Library).where(Library.code == CODE)
                                         ).scalar_one()
            assert library.joined_on == clock.local_today() and not library.founding

        # --- the library is a member now ---------------------------------------------------
        open_mine_link(member_a, "/libraries")
        card = member_a.locator(f"#lib-{CODE}")
        card.scroll_into_view_if_needed()
        assert card.is_visible() and LIBRARY_NAME in card.inner_text()
        assert numbers(member_a.locator("h1 small").inner_text()) == [16]
        fits_the_phone(member_a)
        screenshot(member_a, "governance-libraries-360")

        # --- A closes the meeting; the minutes show the tally ------------------------------
        member_a.goto(base + meeting_path)
        close = member_a.locator(f"form[action='{meeting_path}/close']")
        close.locator("textarea[name=minutes_note]").fill(MINUTES_NOTE)
        close.locator("button[type=submit]").click()
        member_a.wait_for_url(f"**{meeting_path}/minutes")
        minutes = member_a.locator("main article")
        assert MEETING_TITLE in minutes.locator("h1").inner_text()
        assert minutes.locator("[data-result=passed]").count() == 1
        assert numbers(minutes.locator(".tally").inner_text()) == [2, 1, 0, 3]
        attending = member_a.locator("main article > p > span.badge").all_inner_texts()
        assert sorted(name.strip() for name in attending) == [
            "东华理工大学图书馆", "南昌航空大学图书馆", "江西农业大学图书馆"]
        assert MINUTES_NOTE in minutes.inner_text()
        fits_the_phone(member_a)
        screenshot(member_a, "governance-minutes-360")

        member_b.goto(base + "/committee")
        entry = member_b.locator("li.request-item", has=member_b.locator(
            f"a[href='{meeting_path}']"))
        assert entry.locator(f"a[href='{meeting_path}/minutes']").is_visible()
        fits_the_phone(member_b)
        screenshot(member_b, "governance-committee-after-360")
    finally:
        for page in pages:
            page.context.close()
