"""The management center's work: working groups, the annual plan and report, funding."""
import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from jala import clock
from jala.accounts.models import Library
from jala.audit import AuditEntry
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.governance import center, funding, resolutions
from jala.governance.models import (
    CostShare,
    Expense,
    Meeting,
    WorkingGroupMember,
)
from jala.jobs import OutboxEmail
from jala.membership import current_chair_library, get_library
from tests.support.factories import make_portal_admin, make_user
from tests.support.governance import stale_portal_admin
from tests.support.web import HTMX, as_user, post_form

YEAR = 2025


@pytest.fixture(autouse=True)
def _mid_2025():
    # 2025-06-15 10:00 in Shanghai: the years and dates below stay meaningful
    clock.freeze(datetime(2025, 6, 15, 2, 0, tzinfo=UTC))


@pytest.fixture
def admin(db_session):
    return make_portal_admin()


@pytest.fixture
def librarian(db_session):
    return make_user(library="NCU", roles=("librarian",))


def audit_actions(action):
    return db.session.execute(select(AuditEntry).where(AuditEntry.action == action)
                              ).scalars().all()


# --- working groups -----------------------------------------------------------------------------

def test_the_chair_admin_adds_a_librarian_to_a_group_as_its_lead(ctx, admin, librarian):
    member = center.add_group_member(admin, "reference", librarian.email.upper(), lead=True)
    assert member.group == "reference" and member.is_lead and member.user_id == librarian.id
    groups = dict(center.working_groups(librarian))
    assert list(groups) == ["resources", "reader_services", "it", "reference"]
    assert [m.user_id for m in groups["reference"]] == [librarian.id]
    [entry] = audit_actions("center.group_add")
    assert entry.actor_id == admin.id and entry.details["group"] == "reference"


def test_a_group_has_one_lead_and_a_new_lead_replaces_the_old(ctx, admin, librarian):
    other = make_user(library="JXAU", roles=("library_admin",))
    first = center.add_group_member(admin, "it", librarian.email, lead=True)
    second = center.add_group_member(admin, "it", other.email)
    center.set_group_lead(admin, second.id)
    assert (first.is_lead, second.is_lead) == (False, True)
    assert [m.user_id for m in center.group_members(admin, "it")][0] == other.id
    center.set_group_lead(admin, second.id, lead=False)
    assert not second.is_lead


def test_only_staff_of_a_member_library_join_a_working_group(ctx, admin):
    reader = make_user(library="NCU")
    public = make_user(library=None)
    for person in (reader, public):
        with pytest.raises(RuleViolation, match="staff of a member library"):
            center.add_group_member(admin, "resources", person.email)
    former = make_user(library="JCU", roles=("librarian",))
    get_library("JCU").left_on = date(2025, 1, 1)
    with pytest.raises(RuleViolation, match="staff of a member library"):
        center.add_group_member(admin, "resources", former.email)
    with pytest.raises(RuleViolation, match="No account has the address nobody@example.com"):
        center.add_group_member(admin, "resources", "nobody@example.com")
    librarian = make_user(library="NCU", roles=("librarian",))
    with pytest.raises(RuleViolation, match="Choose a working group"):
        center.add_group_member(admin, "finance", librarian.email)
    assert db.session.query(WorkingGroupMember).count() == 0


def test_a_person_is_in_a_group_once(ctx, admin, librarian):
    center.add_group_member(admin, "resources", librarian.email)
    with pytest.raises(RuleViolation, match="already in this working group"):
        center.add_group_member(admin, "resources", librarian.email)
    center.add_group_member(admin, "it", librarian.email)  # another group is fine


def test_the_admin_removes_a_member(ctx, admin, librarian):
    member = center.add_group_member(admin, "resources", librarian.email)
    center.remove_group_member(admin, member.id)
    assert center.group_members(admin, "resources") == []
    assert audit_actions("center.group_remove")[0].details["user_id"] == librarian.id
    with pytest.raises(NotFound):
        center.remove_group_member(admin, member.id)


def test_librarians_and_admins_outside_the_chair_library_cannot_change_groups(ctx, admin,
                                                                               librarian):
    member = center.add_group_member(admin, "resources", librarian.email)
    library_admin = make_user(library="JXAU", roles=("library_admin",))
    committee = make_user(library="JXUFE", roles=("committee_member",))
    for actor in (librarian, library_admin, committee):
        with pytest.raises(NotAllowed, match="Only portal admins"):
            center.add_group_member(actor, "it", library_admin.email)
        with pytest.raises(NotAllowed):
            center.remove_group_member(actor, member.id)
        with pytest.raises(NotAllowed):
            center.set_group_lead(actor, member.id)
    stale = stale_portal_admin()
    with pytest.raises(NotAllowed, match="chair library's portal admins"):
        center.set_group_lead(stale, member.id)
    assert not member.is_lead and db.session.get(WorkingGroupMember, member.id) is not None


def test_groups_are_for_staff_of_member_libraries(ctx, librarian):
    assert center.working_groups(librarian)
    for outsider in (make_user(library="NCU"), make_user(library=None)):
        with pytest.raises(NotAllowed):
            center.working_groups(outsider)


# --- the annual work plan and report ------------------------------------------------------------

def test_the_plan_is_a_draft_until_published_then_the_committee_is_emailed(ctx, admin,
                                                                           librarian):
    ncu = make_user(library="NCU", roles=("committee_member",), name="NCU director")
    jxau = make_user(library="JXAU", roles=("committee_member",))
    former = make_user(library="JCU", roles=("committee_member",))
    get_library("JCU").left_on = date(2025, 1, 1)
    document = center.save_document(admin, YEAR, "plan", "  一、资源建设\r\n二、读者服务  ")
    assert document.body == "一、资源建设\n二、读者服务"
    assert document.library_id == current_chair_library().id and document.published_at is None
    assert center.get_document(librarian, YEAR, "plan") is None
    assert center.list_documents(librarian) == []
    assert center.get_document(admin, YEAR, "plan") is document
    assert db.session.query(OutboxEmail).filter_by(kind="center.document_published").count() == 0

    center.publish_document(admin, YEAR, "plan")
    assert document.published_at == clock.now()
    assert center.get_document(librarian, YEAR, "plan") is document
    assert center.list_documents(librarian) == [document]
    emails = db.session.execute(select(OutboxEmail).where(
        OutboxEmail.kind == "center.document_published")).scalars().all()
    assert sorted(e.to_addr for e in emails) == sorted([ncu.email, jxau.email])
    assert former.email not in {e.to_addr for e in emails}
    mail = next(e for e in emails if e.to_addr == ncu.email)
    assert "NCU director" in mail.body_text and f"/center/documents/{YEAR}/plan" in mail.body_text
    assert (mail.object_type, mail.object_id) == ("annual_document", str(document.id))
    assert audit_actions("center.document_publish")[0].details["emailed"] == 2


def test_a_published_document_is_final(ctx, admin):
    center.save_document(admin, YEAR, "report", "年度报告")
    center.publish_document(admin, YEAR, "report")
    with pytest.raises(RuleViolation, match="published and can no longer be changed") as exc:
        center.save_document(admin, YEAR, "report", "改过的报告")
    assert exc.value.status == 409
    with pytest.raises(RuleViolation, match="already published"):
        center.publish_document(admin, YEAR, "report")
    assert center.get_document(admin, YEAR, "report").body == "年度报告"


def test_document_text_and_year_are_checked(ctx, admin):
    with pytest.raises(RuleViolation, match="Write the text first"):
        center.save_document(admin, YEAR, "plan", " \n ")
    with pytest.raises(RuleViolation, match="at most 50000 characters"):
        center.save_document(admin, YEAR, "plan", "字" * 50_001)
    center.save_document(admin, YEAR, "plan", "字" * 50_000)
    with pytest.raises(RuleViolation, match="Choose a year from 2019 to 2026"):
        center.save_document(admin, 2027, "plan", "text")
    with pytest.raises(RuleViolation, match="Choose the work plan or the report"):
        center.save_document(admin, YEAR, "budget", "text")
    with pytest.raises(RuleViolation, match="Write the text first"):
        center.publish_document(admin, YEAR, "report")


def test_a_save_based_on_an_old_version_does_not_overwrite_a_newer_one(ctx, admin):
    document = center.save_document(admin, YEAR, "plan", "first", based_on="")
    opened = center.version_of(document)
    clock.advance(datetime.resolution * 1000)
    center.save_document(admin, YEAR, "plan", "second", based_on=opened)
    with pytest.raises(RuleViolation, match="Someone else saved this text"):
        center.save_document(admin, YEAR, "plan", "third", based_on=opened)
    assert document.body == "second"


def test_only_the_chair_librarys_admins_write_and_publish(ctx, admin, librarian):
    center.save_document(admin, YEAR, "plan", "draft")
    for actor in (librarian, make_user(library="JXAU", roles=("committee_member",)),
                  stale_portal_admin()):
        with pytest.raises(NotAllowed):
            center.save_document(actor, YEAR, "plan", "mine now")
        with pytest.raises(NotAllowed):
            center.publish_document(actor, YEAR, "plan")
    assert center.get_document(admin, YEAR, "plan").published_at is None


# --- funding --------------------------------------------------------------------------------

def funded_year(admin):
    """Shares of three libraries (NCU paid), and two expenses."""
    funding.set_cost_share(admin, YEAR, "NCU", "10,000")
    funding.set_cost_share(admin, YEAR, "jxau", "8000.5")
    funding.set_cost_share(admin, YEAR, current_chair_library().code, "0")
    funding.mark_share_paid(admin, YEAR, "NCU", date(2025, 3, 1))
    funding.record_expense(admin, YEAR, date(2025, 2, 10), "年会会务费", "1200.25")
    funding.record_expense(admin, YEAR, date(2025, 5, 20), "  门户服务器\n租用  ", "300")


def test_the_expense_report_adds_up(ctx, admin, librarian):
    funded_year(admin)
    report = funding.expense_report(librarian, YEAR)
    assert report["total_shares"] == Decimal("18000.50")
    assert report["total_paid"] == Decimal("10000.00")
    assert report["outstanding"] == Decimal("8000.50")
    assert report["total_spent"] == Decimal("1500.25")
    assert report["balance"] == Decimal("8499.75")
    rows = {r["library"].code: r for r in report["rows"]}
    assert len(rows) == db.session.query(Library).count() == 15
    assert (rows["NCU"]["share"], rows["NCU"]["paid_on"], rows["NCU"]["paid"]) == (
        Decimal("10000.00"), date(2025, 3, 1), Decimal("10000.00"))
    assert (rows["JXAU"]["share"], rows["JXAU"]["paid"]) == (Decimal("8000.50"), Decimal("0"))
    assert rows["YCU"]["share"] is None
    assert [e.description for e in report["expenses"]] == ["年会会务费", "门户服务器 租用"]
    assert funding.expense_report(librarian, 2024)["total_shares"] == 0


def test_a_library_that_was_not_a_member_that_year_has_no_share(ctx, admin):
    with pytest.raises(RuleViolation,
                       match="Jingdezhen Ceramic University Library was not a member library"):
        funding.set_cost_share(admin, 2019, "JCU", "100")
    funding.set_cost_share(admin, 2020, "JCU", "100")
    rows = [r["library"].code for r in funding.expense_report(admin, 2019)["rows"]]
    assert "JCU" not in rows and len(rows) == 14
    with pytest.raises(NotFound):
        funding.set_cost_share(admin, YEAR, "NOPE", "100")


@pytest.mark.parametrize(("raw", "message"), [
    ("-1", "cannot be negative"),
    ("12.345", "at most two decimals"),
    ("abc", "Enter an amount in yuan"),
    ("", "Enter an amount in yuan"),
    ("NaN", "Enter an amount in yuan"),
    ("1e20", "too large"),
])
def test_amounts_are_checked(ctx, admin, raw, message):
    with pytest.raises(RuleViolation, match=message):
        funding.set_cost_share(admin, YEAR, "NCU", raw)
    assert db.session.query(CostShare).count() == 0


def test_amounts_in_common_notations_are_read(ctx, admin):
    assert funding.parse_amount("￥1,234.5") == Decimal("1234.50")
    assert funding.parse_amount("12.300") == Decimal("12.30")
    with pytest.raises(RuleViolation, match="more than zero"):
        funding.parse_amount("0", positive=True)


def test_a_paid_share_keeps_its_amount_until_marked_unpaid(ctx, admin):
    funding.set_cost_share(admin, YEAR, "NCU", "5000")
    with pytest.raises(RuleViolation, match="cannot be in the future"):
        funding.mark_share_paid(admin, YEAR, "NCU", date(2025, 6, 16))
    with pytest.raises(RuleViolation, match="in 2024 or later"):
        funding.mark_share_paid(admin, YEAR, "NCU", date(2023, 12, 31))
    funding.mark_share_paid(admin, YEAR, "NCU", date(2024, 12, 20))  # paid in advance
    funding.set_cost_share(admin, YEAR, "NCU", "5000.00")  # the same amount: fine
    with pytest.raises(RuleViolation, match="already paid its share for 2025"):
        funding.set_cost_share(admin, YEAR, "NCU", "6000")
    funding.mark_share_paid(admin, YEAR, "NCU", None)
    share = funding.set_cost_share(admin, YEAR, "NCU", "6000")
    assert (share.amount, share.paid_on) == (Decimal("6000.00"), None)
    assert [e.details["previous"] for e in audit_actions("center.share_set")] == [
        None, "5000.00", "5000.00"]
    with pytest.raises(RuleViolation, match="Set the share of Jiangxi Agricultural University"):
        funding.mark_share_paid(admin, YEAR, "JXAU", date(2025, 1, 2))


def test_expenses_are_dated_in_their_year_and_described(ctx, admin):
    with pytest.raises(RuleViolation, match="The date must be in 2025"):
        funding.record_expense(admin, YEAR, date(2024, 12, 31), "x", "1")
    with pytest.raises(RuleViolation, match="cannot be in the future"):
        funding.record_expense(admin, YEAR, date(2025, 6, 16), "x", "1")
    with pytest.raises(RuleViolation, match="Say what the money was spent on"):
        funding.record_expense(admin, YEAR, date(2025, 6, 15), "   ", "1")
    with pytest.raises(RuleViolation, match="at most 300 characters"):
        funding.record_expense(admin, YEAR, date(2025, 6, 15), "x" * 301, "1")
    with pytest.raises(RuleViolation, match="more than zero"):
        funding.record_expense(admin, YEAR, date(2025, 6, 15), "x", "0")
    assert db.session.query(Expense).count() == 0


def test_librarians_and_stale_admins_read_funding_but_cannot_change_it(ctx, admin, librarian):
    funded_year(admin)
    [expense] = [e for e in funding.expense_report(admin, YEAR)["expenses"]
                 if e.amount == Decimal("300.00")]
    for actor in (librarian, make_user(library="NCU", roles=("library_admin",)),
                  stale_portal_admin("JXAU")):
        assert funding.expense_report(actor, YEAR)["total_spent"] == Decimal("1500.25")
        with pytest.raises(NotAllowed):
            funding.set_cost_share(actor, YEAR, "NCU", "1")
        with pytest.raises(NotAllowed):
            funding.mark_share_paid(actor, YEAR, "JXAU", date(2025, 6, 1))
        with pytest.raises(NotAllowed):
            funding.record_expense(actor, YEAR, date(2025, 6, 1), "mine", "1")
        with pytest.raises(NotAllowed):
            funding.delete_expense(actor, YEAR, expense.id)
    with pytest.raises(NotAllowed):
        funding.expense_report(make_user(library="NCU"), YEAR)
    assert funding.expense_report(admin, YEAR)["total_spent"] == Decimal("1500.25")


def test_an_expense_is_deleted_only_through_its_own_year(ctx, admin):
    expense = funding.record_expense(admin, YEAR, date(2025, 1, 5), "打印", "20")
    with pytest.raises(NotFound):
        funding.delete_expense(admin, 2024, expense.id)
    funding.delete_expense(admin, YEAR, expense.id)
    assert db.session.get(Expense, expense.id) is None
    assert audit_actions("center.expense_delete")[0].details["amount"] == "20.00"


def test_the_csv_holds_the_report_and_no_formulas(ctx, admin):
    funded_year(admin)
    funding.record_expense(admin, YEAR, date(2025, 6, 1), "=HYPERLINK(\"http://x\")", "1")
    text = funding.expense_report_csv(funding.expense_report(admin, YEAR))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Annual expense report 2025"]
    assert rows[2] == ["Library code", "Library", "Cost share (yuan)", "Paid on", "Paid (yuan)"]
    ncu = next(r for r in rows if r[:1] == ["NCU"])
    assert ncu[2:] == ["10000.00", "2025-03-01", "10000.00"]
    assert ["2025-02-10", "年会会务费", "1200.25", ""] in rows
    assert ["2025-06-01", "'=HYPERLINK(\"http://x\")", "1.00", ""] in rows
    assert ["Total spent", "1501.25"] in rows
    assert ["Balance (paid minus spent)", "8498.75"] in rows


def test_the_expense_report_goes_on_the_agenda_and_its_approval_locks_the_expenses(ctx, admin):
    funded_year(admin)
    meeting = Meeting(title="2025 年委员会会议", starts_at=clock.now(), place="南昌",
                      status="convened", convened_via="chair", requested_by_id=admin.id,
                      presiding_id=admin.id)
    db.session.add(meeting)
    db.session.flush()
    item = funding.present_expense_report(admin, meeting.id, YEAR)
    assert (item.kind, item.amount) == ("expense", Decimal("1500.25"))
    assert item.payload["year"] == YEAR and len(item.payload["expense_ids"]) == 2
    assert "1500.25" in item.body and "年会会务费" in item.body
    assert funding.pending_item_for(YEAR) == item
    item.yes, item.no, item.abstain, item.attending, item.passed = 3, 0, 0, 3, True
    assert resolutions.approve_expenses(admin, item) == 2
    expense = funding.expense_report(admin, YEAR)["expenses"][0]
    assert expense.approved_by_item_id == item.id
    with pytest.raises(RuleViolation, match="approved this expense"):
        funding.delete_expense(admin, YEAR, expense.id)
    with pytest.raises(RuleViolation, match="No expense of 2025 is waiting"):
        funding.present_expense_report(admin, meeting.id, YEAR)


# --- pages ---------------------------------------------------------------------------------

def test_a_visitor_is_sent_to_log_in(client):
    response = client.get("/center/groups")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_reader_may_not_see_the_management_center(client):
    as_user(client, make_user(library="NCU"))
    for path in ("/center/", "/center/groups", "/center/documents", f"/center/funding/{YEAR}",
                 f"/center/funding/{YEAR}.csv"):
        assert client.get(path).status_code == 403, path


def test_a_librarian_reads_but_cannot_post(client, admin, librarian):
    center.save_document(admin, YEAR, "plan", "草稿：不公开")
    as_user(client, librarian)
    for path in ("/center/", "/center/groups", "/center/documents", f"/center/funding/{YEAR}"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'method="post" action="/center' not in page.get_data(as_text=True), path
    draft = client.get(f"/center/documents/{YEAR}/plan").get_data(as_text=True)
    assert "草稿" not in draft and "not published this yet" in draft
    token_from = f"/center/funding/{YEAR}"
    assert post_form(client, f"/center/funding/{YEAR}/shares/NCU", {"amount": "1"},
                     token_from=token_from).status_code == 403
    assert post_form(client, f"/center/funding/{YEAR}/expenses", {
        "spent_on": "2025-06-01", "description": "x", "amount": "1"},
        token_from=token_from).status_code == 403
    assert post_form(client, f"/center/documents/{YEAR}/plan", {"body": "mine", "based_on": ""},
                     token_from=token_from).status_code == 403
    assert post_form(client, f"/center/documents/{YEAR}/plan/publish", {},
                     token_from=token_from).status_code == 403
    assert post_form(client, "/center/groups", {"group": "it", "email": librarian.email},
                     token_from=token_from).status_code == 403
    assert db.session.query(CostShare).count() == db.session.query(Expense).count() == 0
    assert db.session.query(WorkingGroupMember).count() == 0
    assert center.get_document(admin, YEAR, "plan").published_at is None


def test_the_admin_sets_shares_with_and_without_htmx(client, admin):
    as_user(client, admin)
    path = f"/center/funding/{YEAR}"
    response = post_form(client, f"{path}/shares/NCU", {"amount": "12000"}, token_from=path)
    assert response.status_code == 303 and response.headers["Location"].endswith(path)
    assert "12000.00" in client.get(path).get_data(as_text=True)
    response = post_form(client, f"{path}/shares/JXAU", {"amount": "500.5"}, token_from=path,
                         headers=HTMX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.lstrip().startswith('<div id="funding">')
    assert "¥12,500.50" in page  # the totals are swapped in too
    response = post_form(client, f"{path}/shares/NCU/paid", {"paid_on": "2025-04-01"},
                         token_from=path, headers=HTMX)
    assert "Mark unpaid" in response.get_data(as_text=True)
    assert db.session.execute(select(CostShare.paid_on).join(Library).where(
        Library.code == "NCU")).scalar_one() == date(2025, 4, 1)


def test_a_refused_change_shows_the_reason_and_keeps_nothing(client, admin):
    as_user(client, admin)
    path = f"/center/funding/{YEAR}"
    response = post_form(client, f"{path}/shares/NCU", {"amount": "-5"}, token_from=path)
    assert response.status_code == 400
    assert "cannot be negative" in response.get_data(as_text=True)
    response = post_form(client, f"{path}/expenses", {
        "spent_on": "2024-05-01", "description": "会议室", "amount": "100"},
        token_from=path, headers=HTMX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "The date must be in 2025" in page
    assert 'value="会议室"' in page  # what was typed stays in the form
    assert db.session.query(CostShare).count() == db.session.query(Expense).count() == 0


def test_the_admin_records_and_deletes_an_expense(client, admin):
    as_user(client, admin)
    path = f"/center/funding/{YEAR}"
    response = post_form(client, f"{path}/expenses", {
        "spent_on": "2025-06-01", "description": "会议茶歇", "amount": "88.8"}, token_from=path)
    assert response.status_code == 303
    expense = db.session.execute(select(Expense)).scalar_one()
    assert (expense.amount, expense.recorded_by_id) == (Decimal("88.80"), admin.id)
    assert post_form(client, f"/center/funding/2024/expenses/{expense.id}/delete", {},
                     token_from=path).status_code == 404
    response = post_form(client, f"{path}/expenses/{expense.id}/delete", {}, token_from=path)
    assert response.status_code == 303 and db.session.query(Expense).count() == 0


def test_the_csv_download(client, admin, librarian):
    funded_year(admin)
    as_user(client, librarian)
    response = client.get(f"/center/funding/{YEAR}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "jala-expense-report-2025.csv" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff") and "8499.75" in text


def test_the_admin_writes_and_publishes_the_plan_and_members_read_it(client, admin, librarian):
    committee = make_user(library="JXAU", roles=("committee_member",))
    as_user(client, admin)
    path = f"/center/documents/{YEAR}/plan"
    assert 'name="based_on" type="hidden" value=""' in client.get(path).get_data(as_text=True)
    response = post_form(client, path, {"body": "一、资源建设\n二、读者服务", "based_on": ""},
                         token_from=path)
    assert response.status_code == 303
    response = post_form(client, path, {"body": "改写", "based_on": ""}, token_from=path)
    assert response.status_code == 400
    assert "Someone else saved this text" in response.get_data(as_text=True)
    assert post_form(client, f"{path}/publish", {}, token_from=path).status_code == 303
    assert db.session.query(OutboxEmail).filter_by(to_addr=committee.email).count() == 1
    response = post_form(client, path, {"body": "改写", "based_on": ""}, token_from=path)
    assert response.status_code == 400 and "can no longer be changed" in response.get_data(
        as_text=True)
    client.post("/logout", data={"csrf_token": ""})

    other = client.application.test_client()
    as_user(other, librarian)
    page = other.get(path).get_data(as_text=True)
    assert "一、资源建设" in page and "Annual work plan 2025" in page and "<textarea" not in page
    assert "Annual work plan 2025" in other.get("/center/documents").get_data(as_text=True)


def test_the_admin_adds_group_members_through_the_form(client, admin, librarian):
    as_user(client, admin)
    response = post_form(client, "/center/groups", {"group": "it", "email": "ghost@example.com"},
                         token_from="/center/groups")
    assert response.status_code == 400
    assert "No account has the address ghost@example.com" in response.get_data(as_text=True)
    response = post_form(client, "/center/groups", {"group": "it", "email": librarian.email,
                                                    "lead": "y"}, token_from="/center/groups")
    assert response.status_code == 303
    member = db.session.execute(select(WorkingGroupMember)).scalar_one()
    assert member.is_lead
    response = post_form(client, f"/center/groups/members/{member.id}/lead", {"lead": "0"},
                         token_from="/center/groups", headers=HTMX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.lstrip().startswith('<section class="card" '
                                                                     'id="group-it">')
    assert "Make lead" in page and not member.is_lead
    response = post_form(client, f"/center/groups/members/{member.id}/remove", {},
                         token_from="/center/groups")
    assert response.status_code == 303 and db.session.query(WorkingGroupMember).count() == 0
    assert post_form(client, f"/center/groups/members/{member.id}/remove", {},
                     token_from="/center/groups").status_code == 404
