"""At 360 px: a visitor searches and opens a record; the roll-up is refreshed by the sweeper's
task; a committee member opens the alliance's statistics on a phone, reads the charts and the
figures, switches to figures by year, and downloads the Excel file.
"""
import io
import re
import zipfile
from urllib.parse import quote

import pytest
from sqlalchemy import text

from jala.extensions import db
from jala.jobs import run_job
from jala.usage.rollup import refresh
from tests.support.browser import fits_the_phone, log_in, new_phone, screenshot, serving
from tests.support.factories import add_record, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

DIRECTOR_EMAIL = "e2e-usage-director@example.edu.cn"
QUERY = "赣南苏区统计专题"


@pytest.fixture
def usage_setup(private_app):
    """Committed on a database of its own (a committee seat is one per library): NCU's
    director and a record to find; the app served on loopback."""
    with private_app.app_context():
        director = make_user(library="NCU", roles=("committee_member",), email=DIRECTOR_EMAIL,
                             name="统计委员")
        record = add_record("e2e-usage-record", ["NCU"], title=QUERY)
        setup = {"totp_secret": director.totp_secret, "record_id": record.id}
        db.session.commit()
    with serving(private_app) as base:
        yield {**setup, "base": base, "app": private_app}


def test_a_committee_member_reads_the_alliances_statistics_on_a_phone(browser, usage_setup):
    base, app = usage_setup["base"], usage_setup["app"]
    visitor = new_phone(browser)
    director = new_phone(browser)
    try:
        visitor.goto(base + "/search?q=" + quote(QUERY))
        visitor.goto(base + f"/records/{usage_setup['record_id']}")
        with app.app_context():
            run_job(refresh)  # what the sweeper's task does, committed
            searches = db.session.execute(text(
                "SELECT count(*) FROM search_log WHERE at >= date_trunc('month', now() "
                "AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'")).scalar()
        log_in(director, base, DIRECTOR_EMAIL, usage_setup["totp_secret"])
        director.goto(base + "/stats")
        assert director.locator("h1").inner_text() == "联盟统计"
        assert director.locator(".usage-chart svg").count() == 6
        fits_the_phone(director)
        screenshot(director, "usage-alliance-dashboard-360")
        month_row = director.locator("table.usage-table tbody tr").first
        assert int(month_row.locator("td[data-measure=searches]").inner_text()) == searches
        assert re.search(r"\d+年\d+月", month_row.locator("td").first.inner_text())
        assert "小于 5 的数字显示为" in director.locator("main").inner_text()
        director.select_option("select[name=by]", "year")
        director.click("form.usage-filters button[type=submit]")
        director.wait_for_url("**/stats?*by=year*")
        assert re.fullmatch(r"\d{4}年", director.locator(
            "table.usage-table tbody tr td").first.inner_text().strip())
        fits_the_phone(director)
        screenshot(director, "usage-alliance-by-year-360")
        with director.expect_download() as download:
            director.click("a.button[href^='/stats.xlsx']")
        with open(download.value.path(), "rb") as file:
            data = file.read()
        sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
        assert "<row" in sheet
    finally:
        visitor.context.close()
        director.context.close()
