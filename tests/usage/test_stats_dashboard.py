"""The statistics dashboards over HTTP: who may see which, their numbers, and their exports."""
import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from jala import clock
from jala.extensions import db
from jala.search.models import SearchLogEntry
from jala.usage.rollup import refresh
from tests.support.factories import add_record, library_id, make_portal_admin, make_user
from tests.support.web import other_client, visible_text
from tests.usage import test_stats_rollup as events
from tests.usage.test_stats_rollup import counts_from_the_tables

busy_month = events.busy_month  # the month of use made through the services

def this_month():
    return clock.local_today().strftime("%Y-%m")


def cell(page, period, measure):
    row = re.search(rf'<tr data-period="{period}">(.*?)</tr>', page, re.S).group(1)
    return int(re.search(rf'data-measure="{measure}">([^<]*)</td>', row).group(1))


@pytest.fixture
def director(ctx):
    return make_user(library="NCU", roles=("committee_member",))


def test_the_alliance_dashboard_shows_the_tables_counts(busy_month, client, director):
    browser = other_client(client, director)  # signed in before the figures are counted
    refresh()
    counts = counts_from_the_tables()
    page = browser.get("/stats?months=2").get_data(as_text=True)
    for measure, counted in counts.items():
        assert cell(page, this_month(), measure) == counted.get(this_month(), 0), measure
    assert '<svg viewBox="0 0 586 160"' in page and "rect" in page  # server-side charts


def test_a_librarys_dashboard_shows_its_own_counts(busy_month, client):
    browser = other_client(client, make_user(library="NCU", roles=("librarian",)))
    refresh()
    counts = counts_from_the_tables(library_id("NCU"))
    page = browser.get("/libraries/NCU/stats?months=2").get_data(as_text=True)
    for measure, counted in counts.items():
        assert cell(page, this_month(), measure) == counted.get(this_month(), 0), measure
    assert re.search(r'<tr data-library="NCU">.*?class="lent">1</td>', page, re.S)


def test_by_year_the_months_add_up(busy_month, client, director):
    refresh()
    page = other_client(client, director).get("/stats?months=12&by=year").get_data(as_text=True)
    year = clock.local_today().strftime("%Y")
    assert cell(page, year, "record_views") == sum(
        n for m, n in counts_from_the_tables()["record_views"].items() if m.startswith(year)
        and m >= clock.first_of_month_back(12).strftime("%Y-%m"))


@pytest.mark.parametrize("path", ["/libraries/NCU/stats", "/libraries/NCU/stats.csv",
                                  "/libraries/NCU/stats.xlsx"])
def test_a_librarian_cannot_open_another_librarys_statistics(client, ctx, path):
    jxufe = make_user(library="JXUFE", roles=("librarian",))
    browser = other_client(client, jxufe)
    assert browser.get(path).status_code == 403
    assert browser.get(path.replace("NCU", "JXUFE")).status_code == 200


@pytest.mark.parametrize("path", ["/stats", "/stats.csv", "/stats.xlsx"])
def test_only_the_committee_and_the_centre_see_the_alliances_statistics(client, ctx, path):
    for user in (make_user(library="JXUFE"), make_user(library="NCU", roles=("librarian",))):
        assert other_client(client, user).get(path).status_code == 403
    assert client.application.test_client().get(path).status_code in (302, 303, 401)
    assert other_client(client, make_portal_admin()).get(path).status_code == 200
    director = make_user(library="ECJTU", roles=("committee_member",))
    assert other_client(client, director).get(path).status_code == 200


def test_the_alliance_export_hides_counts_below_five(busy_month, client, director):
    refresh()
    browser = other_client(client, director)
    text = browser.get("/stats.csv?months=2").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    ncu = next(r for r in rows if r["library"] == "NCU" and r["period"] == this_month())
    assert ncu["ill_lent"] == "<5" and ncu["reference_answered"] == "<5"
    assert all(v == "<5" or not v.isdigit() or v == "0" or int(v) >= 5
               for r in rows for k, v in r.items() if k not in ("period", "library"))
    page = browser.get("/stats").get_data(as_text=True)
    assert "a figure below 5 is shown as" in visible_text(page)


def test_a_librarys_own_export_shows_its_figures_as_they_are(busy_month, client):
    refresh()
    ncu = other_client(client, make_user(library="NCU", roles=("librarian",)))
    text = ncu.get("/libraries/NCU/stats.csv?months=2").get_data(as_text=True).lstrip("\ufeff")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["period"] == this_month())
    assert row["ill_lent"] == "1"


def sheet_cells(data):
    """The first sheet's cell values (shared strings resolved), row by row."""
    book = zipfile.ZipFile(io.BytesIO(data))
    strings = re.findall(r"<t[^>]*>([^<]*)</t>", book.read("xl/sharedStrings.xml").decode())
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    rows = []
    for row in re.findall(r"<row [^>]*>(.*?)</row>", sheet, re.S):
        values = []
        for kind, value in re.findall(r'<c r="[A-Z]+\d+"(?: s="\d+")?( t="s")?[^>]*><v>([^<]*)</v>',
                                      row):
            values.append(strings[int(value)] if kind else value)
        rows.append(values)
    return rows


def test_the_xlsx_export_opens_with_the_same_suppressed_figures(busy_month, client, director):
    refresh()
    response = other_client(client, director).get("/stats.xlsx?months=2")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    rows = sheet_cells(response.data)
    assert rows[0][:3] == ["period", "library", "searches"]
    ncu = next(r for r in rows[1:] if r[1] == "NCU" and r[0] == this_month())
    assert ncu[rows[0].index("ill_lent")] == "&lt;5"


def test_only_queries_searched_five_times_are_listed(client, director):
    for n, query in ((5, "江西红色文化"), (4, "某位读者的私事"), (6, "无此书名xyz")):
        for _ in range(n):
            db.session.add(SearchLogEntry(query=query, hits=0 if "xyz" in query else 3,
                                          total_relation="eq", ms=5, channel="page"))
    db.session.flush()
    refresh()
    page = other_client(client, director).get("/stats").get_data(as_text=True)
    assert "江西红色文化" in page and "无此书名xyz" in page
    assert "某位读者的私事" not in page
    zero = page.split("Searched but not found", 1)[1]
    assert "无此书名xyz" in zero and "江西红色文化" not in zero


def test_a_full_text_link_is_counted_and_goes_only_where_the_record_says(client, ctx):
    record = add_record("usage-link", ["NCU"], title="全文链接", url="https://ft.example.edu.cn/1",
                        doi="10.1000/usage.1")

    def clicks():
        return db.session.execute(text(
            "SELECT count(*) FROM usage_events WHERE kind = 'link_click' AND record_id = :r"),
            {"r": record.id}).scalar()

    response = client.get(f"/records/{record.id}/full-text/online")
    assert response.status_code == 302 and response.location == "https://ft.example.edu.cn/1"
    response = client.get(f"/records/{record.id}/full-text/doi")
    assert response.location == "https://doi.org/10.1000/usage.1"
    assert clicks() == 2
    for via in ("NCU", "https:%2F%2Fevil.example.com", "javascript"):
        assert client.get(f"/records/{record.id}/full-text/{via}").status_code == 404
    assert clicks() == 2
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert f'href="/records/{record.id}/full-text/online"' in page


def test_the_annual_report_draft_shows_the_years_figures_from_the_statistics(busy_month, client):
    centre = make_portal_admin()  # the chair library's portal admin: the management centre
    browser = other_client(client, centre)
    refresh()
    year = clock.local_today().year
    counts = counts_from_the_tables()
    page = browser.get(f"/center/documents/{year}/report").get_data(as_text=True)
    figures = page.split('id="year-figures"', 1)[1].split("</section>", 1)[0]
    views = sum(n for m, n in counts["record_views"].items() if m.startswith(str(year)))
    assert re.search(rf"<dd>{views:,}</dd>", figures)
    assert len(re.findall(r"<dd>", figures)) == len(counts)


def test_a_year_total_is_suppressed_when_one_of_its_months_was(client, director):
    """Else the hidden month could be had by subtracting the shown months from the total."""
    clock.freeze(datetime(2026, 11, 15, 4, 0, tzinfo=UTC))
    jxau = library_id("JXAU")
    for month, measure, n in ((date(2026, 9, 1), "record_views", 3),
                              (date(2026, 10, 1), "record_views", 40),
                              (date(2026, 9, 1), "searches", 12),
                              (date(2026, 10, 1), "searches", 30)):
        db.session.execute(text(
            "INSERT INTO usage_monthly (month, library_id, measure, n) "
            "VALUES (:month, :library, :measure, :n)"),
            {"month": month, "library": jxau, "measure": measure, "n": n})
    db.session.flush()
    browser = other_client(client, director)
    by_month = list(csv.DictReader(io.StringIO(browser.get(
        "/stats.csv?months=12").get_data(as_text=True).lstrip("\ufeff"))))
    september = next(r for r in by_month if r["library"] == "JXAU" and r["period"] == "2026-09")
    assert september["record_views"] == "<5"
    by_year = list(csv.DictReader(io.StringIO(browser.get(
        "/stats.csv?months=12&by=year").get_data(as_text=True).lstrip("\ufeff"))))
    year = next(r for r in by_year if r["library"] == "JXAU" and r["period"] == "2026")
    assert year["record_views"] == "suppressed"  # not 43: 43 − 40 would give September's 3
    assert year["searches"] == "42"  # no month of it was small
    page = browser.get("/stats").get_data(as_text=True)
    assert "so that the month cannot be worked out from the total" in page
