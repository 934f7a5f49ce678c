"""The COUNTER_SUSHI 5.1 API over HTTP, its keys page, and a harvest the way a SUSHI client makes
it; every answer is checked against the official COUNTER_SUSHI 5.1 JSON schemas."""
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from jala import clock
from jala.accounts.models import ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN, Library
from jala.errors import NotAllowed
from jala.extensions import db
from jala.search.models import SearchLogEntry
from jala.usage import sushi
from jala.usage.models import UsageEvent
from tests.support.factories import add_record, library_id, make_user
from tests.support.web import as_user, post_form, visible_text
from tests.usage.data.counter_schema import errors

API = "/sushi/r51"


@pytest.fixture
def key(ctx):
    """A live SUSHI credential of JXUFE: ``(requestor_id, api_key)``."""
    admin = make_user(library="JXUFE", roles=(ROLE_LIBRARY_ADMIN,))
    credential, api_key = sushi.create_credential(admin, "JXUFE", "Our ERM")
    db.session.commit()  # a refused request rolls back: the key must outlive it
    return credential.requestor_id, api_key


def creds(key, customer="JXUFE"):
    return {"customer_id": customer, "requestor_id": key[0], "api_key": key[1]}


def last_month():
    """The first day of the last whole month (Beijing) and an instant in it."""
    first = clock.first_of_month_back(2)
    return first, datetime.combine(first.replace(day=10), time(10), tzinfo=clock.SHANGHAI)


def _usage():
    """A month of JXUFE readers' usage with a double click, other libraries' and machines'."""
    first, noon = last_month()
    book = add_record("counter-1", ["JXUFE"], title="计数之书", type="book")
    thesis = add_record("counter-2", ["JXUFE"], title="计数论文", type="thesis")
    jxufe, ecjtu = library_id("JXUFE"), library_id("ECJTU")
    rows = [  # (seconds after noon, kind, record, session, library)
        (0, "record_view", book, "s1", jxufe), (10, "record_view", book, "s1", jxufe),  # double
        (300, "link_click", book, "s1", jxufe), (3600, "record_view", book, "s2", jxufe),
        (7200, "record_view", thesis, "s2", jxufe), (7300, "catalogue_download", thesis, "s2",
                                                      jxufe),
        (7400, "record_view", book, "s9", ecjtu), (7500, "sign_in", None, "s2", jxufe),
    ]
    for seconds, kind, record, session, library in rows:
        db.session.add(UsageEvent(at=noon + timedelta(seconds=seconds), kind=kind,
                                  record_id=record.id if record else None, library_id=library,
                                  session_key=session))
    for n, (channel, page, library) in enumerate([
            ("page", None, jxufe), ("page", 1, jxufe), ("page", None, jxufe),
            ("page", 2, jxufe), ("api", None, jxufe), ("page", None, ecjtu)]):
        db.session.add(SearchLogEntry(
            at=noon + timedelta(minutes=n), query=f"计数 {n}", hits=3, total_relation="eq",
            ms=5, channel=channel, library_id=library, filters={"page": page} if page else {}))
    db.session.commit()
    return first, book, thesis


def _performance(report, data_type):
    rows = report["Report_Items"][0]["Attribute_Performance"]
    return next(row["Performance"] for row in rows if row["Data_Type"] == data_type)


# --- the keys page -------------------------------------------------------------------------

def test_a_library_admin_makes_a_key_shown_once_and_kept_only_hashed(client):
    admin = make_user(library="JXUFE", roles=(ROLE_LIBRARY_ADMIN,))
    as_user(client, admin)
    assert client.get("/libraries/JXUFE/sushi").status_code == 200
    made = post_form(client, "/libraries/JXUFE/sushi", {"label": "Celus"},
                     token_from="/libraries/JXUFE/sushi")
    assert made.status_code == 201
    assert made.headers["Cache-Control"] == "no-store"  # no cache keeps the key shown once
    credential = db.session.execute(select(sushi.SushiCredential)).scalars().one()
    page = made.get_data(as_text=True)
    api_key = page.split('class="counter-secret">', 1)[1].split("<", 1)[0]
    assert len(api_key) >= 40 and api_key not in credential.key_hash
    assert credential.key_hash == sushi.hash_key(api_key)
    assert api_key not in client.get("/libraries/JXUFE/sushi").get_data(as_text=True)
    assert client.get(f"{API}/members", query_string={
        "customer_id": "JXUFE", "requestor_id": credential.requestor_id,
        "api_key": api_key}).status_code == 200


def test_only_the_librarys_admins_reach_its_keys_page(client):
    other_admin = make_user(library="ECJTU", roles=(ROLE_LIBRARY_ADMIN,))
    as_user(client, other_admin)
    assert client.get("/libraries/ECJTU/sushi").status_code == 200
    assert client.get("/libraries/JXUFE/sushi").status_code == 403
    librarian = make_user(library="JXUFE", roles=(ROLE_LIBRARIAN,))
    with pytest.raises(NotAllowed):
        sushi.credentials_of(librarian, "JXUFE")
    with pytest.raises(NotAllowed):
        sushi.create_credential(librarian, "JXUFE", "Sneaky")


def test_a_revoked_key_stops_harvesting_at_once(client, key):
    credential = db.session.execute(select(sushi.SushiCredential)).scalars().one()
    admin = make_user(library="JXUFE", roles=(ROLE_LIBRARY_ADMIN,))
    as_user(client, admin)
    answer = post_form(client, f"/libraries/JXUFE/sushi/{credential.id}/revoke", {},
                       token_from="/libraries/JXUFE/sushi")
    assert answer.status_code == 303
    refused = client.get(f"{API}/members", query_string=creds(key))
    assert refused.status_code == 401 and refused.get_json()["Code"] == 2000
    assert "Our ERM" not in visible_text(client.get("/libraries/JXUFE/sushi").get_data(
        as_text=True))


# --- the API's answers ---------------------------------------------------------------------

def test_status_is_public_and_follows_the_spec(client):
    answer = client.get(f"{API}/status")
    assert answer.status_code == 200
    assert errors(answer.get_json(), response="200_Status") == []


@pytest.mark.parametrize("change, code, status", [
    ({"api_key": ""}, 1030, 400), ({"customer_id": ""}, 1030, 400),
    ({"requestor_id": "jxufe-unknown"}, 2000, 401), ({"api_key": "wrong"}, 2000, 401),
    ({"customer_id": "ECJTU"}, 2010, 403), ({"customer_id": "NOPE"}, 2010, 403)])
def test_credentials_are_checked_with_the_spec_exceptions(client, key, change, code, status):
    args = {**creds(key), "begin_date": "2026-01", "end_date": "2026-01", **change}
    for path in ("/members", "/reports", "/reports/pr", "/reports/tr"):
        answer = client.get(API + path, query_string=args)
        assert (answer.status_code, answer.get_json()["Code"]) == (status, code), path
        assert errors(answer.get_json(), response=f"{status}_Exception") == []


def test_bad_dates_are_3020_and_missing_dates_1030(client, key):
    bad = client.get(f"{API}/reports/pr", query_string={
        **creds(key), "begin_date": "2026-05", "end_date": "2026-02"})
    assert (bad.status_code, bad.get_json()["Code"]) == (400, 3020)
    missing = client.get(f"{API}/reports/tr", query_string=creds(key))
    assert (missing.status_code, missing.get_json()["Code"]) == (400, 1030)


def test_months_without_usage_answer_200_with_3030(client, key):
    answer = client.get(f"{API}/reports/pr", query_string={
        **creds(key), "begin_date": "2020-01", "end_date": "2020-03"})
    report = answer.get_json()
    assert answer.status_code == 200 and report["Report_Items"] == []
    assert [e["Code"] for e in report["Report_Header"]["Exceptions"]] == [3030]
    assert errors(report, "PR") == []


def test_platform_report_equals_counts_taken_from_the_tables(client, key):
    first, _book, _thesis = _usage()
    month = first.strftime("%Y-%m")
    answer = client.get(f"{API}/reports/pr", query_string={
        **creds(key), "begin_date": month, "end_date": month})
    report = answer.get_json()
    assert answer.status_code == 200 and errors(report, "PR") == []
    assert report["Report_Header"]["Institution_ID"] == {"Proprietary": ["jala:JXUFE"]}
    searches = db.session.execute(select(func.count()).select_from(SearchLogEntry).where(
        SearchLogEntry.library_id == library_id("JXUFE"), SearchLogEntry.channel == "page",
        func.coalesce(SearchLogEntry.filters["page"].astext, "1") == "1")).scalar()
    assert _performance(report, "Platform") == {"Searches_Platform": {month: searches}}
    assert searches == 3
    views = db.session.execute(select(func.count()).select_from(UsageEvent).where(
        UsageEvent.library_id == library_id("JXUFE"),
        UsageEvent.kind.in_(("record_view", "link_click")))).scalar()
    book = _performance(report, "Book")
    # the table's rows less the thesis view and the first click of the double click
    assert book["Total_Item_Investigations"] == {month: views - 1 - 1}
    assert book["Unique_Item_Investigations"] == {month: 2}  # sessions s1 and s2
    assert book["Unique_Title_Investigations"] == {month: 2}
    # the link click and the MARC download are investigations only: no requests reported
    assert not [m for m in book if m.endswith("_Requests")]
    thesis = _performance(report, "Thesis_or_Dissertation")
    assert thesis == {"Total_Item_Investigations": {month: 2},
                      "Unique_Item_Investigations": {month: 1}}


def test_title_report_lists_the_librarys_titles_and_validates(client, key):
    first, book, _thesis = _usage()
    month = first.strftime("%Y-%m")
    answer = client.get(f"{API}/reports/tr", query_string={
        **creds(key), "begin_date": f"{month}-01", "end_date": f"{month}-28",
        "metric_type": "Total_Item_Investigations|Unique_Item_Investigations",
        "attributes_to_show": "YOP"})
    report = answer.get_json()
    assert answer.status_code == 200 and errors(report, "TR") == []
    assert [item["Title"] for item in report["Report_Items"]] == ["计数之书", "计数论文"]
    first_item = report["Report_Items"][0]
    assert first_item["Item_ID"]["Proprietary"] == f"jala:{book.id}"
    assert first_item["Attribute_Performance"][0]["Performance"] == {
        "Total_Item_Investigations": {month: 3}, "Unique_Item_Investigations": {month: 2}}
    assert report["Report_Header"]["Report_Filters"]["Metric_Type"] == [
        "Total_Item_Investigations", "Unique_Item_Investigations"]


def test_asking_only_for_requests_finds_no_usage_and_still_validates(client, key):
    first, _book, _thesis = _usage()
    month = first.strftime("%Y-%m")
    answer = client.get(f"{API}/reports/tr", query_string={
        **creds(key), "begin_date": month, "end_date": month,
        "metric_type": "Total_Item_Requests|Unique_Item_Requests"})
    report = answer.get_json()
    assert answer.status_code == 200 and errors(report, "TR") == []
    assert report["Report_Items"] == []
    assert [e["Code"] for e in report["Report_Header"]["Exceptions"]] == [3030]


def test_more_than_36_months_is_3020_with_a_clear_message(client, key):
    answer = client.get(f"{API}/reports/pr", query_string={
        **creds(key), "begin_date": "2020-01", "end_date": "2023-01"})
    assert (answer.status_code, answer.get_json()["Code"]) == (400, 3020)
    assert "at most 36 months" in answer.get_json()["Data"]
    assert errors(answer.get_json(), response="400_Exception") == []


def test_a_library_that_left_the_alliance_cannot_harvest(client, key):
    library = db.session.get(Library, library_id("JXUFE"))
    library.left_on = clock.local_today()
    db.session.commit()
    answer = client.get(f"{API}/members", query_string=creds(key))
    assert (answer.status_code, answer.get_json()["Code"]) == (401, 2000)


def test_too_many_requests_are_refused_with_1020(client, key, app):
    app.config["RATELIMIT_SUSHI"] = "3 per minute"
    try:
        statuses = [client.get(f"{API}/members", query_string=creds(key)).status_code
                    for _ in range(4)]
        refused = client.get(f"{API}/members", query_string=creds(key))
    finally:
        app.config.pop("RATELIMIT_SUSHI")
    assert statuses == [200, 200, 200, 429]
    assert refused.get_json()["Code"] == 1020
    assert errors(refused.get_json(), response="429_Exception") == []


def test_changing_the_customer_id_does_not_escape_the_rate_limit(client, key, app):
    app.config["RATELIMIT_SUSHI"] = "3 per minute"
    try:
        statuses = [client.get(f"{API}/members", query_string=creds(key, customer)).status_code
                    for customer in ("JXUFE", "NCU", "ECJTU", "JXU", "nope")]
    finally:
        app.config.pop("RATELIMIT_SUSHI")
    assert statuses[3:] == [429, 429]


def test_changing_the_requestor_id_does_not_escape_the_address_limit(client, key, app):
    app.config["RATELIMIT_SUSHI_ADDRESS"] = "4 per minute"
    try:
        statuses = [client.get(f"{API}/members", query_string={
            **creds(key), "requestor_id": f"guess-{n}"}).status_code for n in range(6)]
    finally:
        app.config.pop("RATELIMIT_SUSHI_ADDRESS")
    assert statuses == [401, 401, 401, 401, 429, 429]


# --- a harvest, as a SUSHI client makes it -------------------------------------------------

def test_a_sushi_client_harvests_every_listed_report(client, key):
    """No SUSHI client on PyPI speaks R5.1 (pycounter reads R5.0 JSON only), so this walks the
    API as such a client does: status, members, the report list, then each report's Path for
    the months the list offers, with the spec's parameters."""
    first, _book, _thesis = _usage()
    status = client.get(f"{API}/status").get_json()
    assert status[0]["Service_Active"] is True
    members = client.get(f"{API}/members", query_string=creds(key)).get_json()
    assert errors(members, response="200_Members") == []
    customer = members[0]["Customer_ID"]
    listing = client.get(f"{API}/reports", query_string=creds(key, customer)).get_json()
    assert errors(listing, response="200_Reports") == []
    harvested = {}
    for entry in listing:
        answer = client.get(f"/sushi{entry['Path']}", query_string={
            **creds(key, customer), "begin_date": entry["First_Month_Available"],
            "end_date": entry["Last_Month_Available"], "attributes_to_show": "Access_Method"})
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith(
            "application/json")
        report = answer.get_json()
        assert errors(report, entry["Report_ID"]) == []
        harvested[entry["Report_ID"]] = report
    assert sorted(harvested) == ["PR", "TR"]
    assert harvested["PR"]["Report_Header"]["Institution_Name"] == "江西财经大学图书馆"
    assert len(harvested["TR"]["Report_Items"]) == 2
    assert first.strftime("%Y-%m") in harvested["PR"]["Report_Header"]["Report_Filters"][
        "End_Date"]
