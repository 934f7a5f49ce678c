"""KBART files of e-journal holdings: loaded beside the CSV list, and written back out."""
import io

import pytest

from jala.delivery import coverage, kbart
from jala.errors import RuleViolation
from tests.support.factories import make_user
from tests.support.web import as_user, post_form

HEADER = "\t".join(kbart.COLUMNS)


def kbart_line(**values):
    return "\t".join(values.get(name, "") for name in kbart.COLUMNS)


# lines as a publisher's KBART (NISO RP-9-2014) gives them: gaps, open ends, embargoes
FILE = "\n".join([
    HEADER,
    kbart_line(publication_title="Nature", print_identifier="0028-0836",
               online_identifier="1476-4687", date_first_issue_online="1997-06-05",
               num_first_vol_online="387", num_first_issue_online="6633",
               title_url="https://www.nature.com/nature", coverage_depth="fulltext",
               publication_type="serial"),
    kbart_line(publication_title="Hearing Research", print_identifier="0378-5955",
               date_first_issue_online="1978-01", date_last_issue_online="1995-12-31",
               coverage_depth="fulltext"),
    kbart_line(publication_title="Hearing Research", print_identifier="0378-5955",
               date_first_issue_online="2001", date_last_issue_online="2020",
               embargo_info="P1Y", coverage_depth="fulltext"),
    kbart_line(publication_title="Index only", print_identifier="0000-0019",
               coverage_depth="abstracts"),
    kbart_line(publication_title="Broken", print_identifier="1234-5678"),
    kbart_line(publication_title="No ids"),
    kbart_line(publication_title="Backwards", print_identifier="2049-3630",
               date_first_issue_online="2015", date_last_issue_online="2010"),
]) + "\n"


@pytest.fixture
def staff(ctx):
    return make_user(library="NCU", roles=("librarian",))


def test_kbart_lines_become_the_library_journals_with_errors_by_line(staff):
    saved, errors = kbart.import_kbart(staff, "NCU", FILE.encode("utf-8"))
    assert saved == 3  # Nature's print and online ISSN, Hearing Research once
    assert [number for number, _reason in errors] == [5, 6, 7, 8]
    assert "abstracts" in errors[0][1] and "not a valid ISSN" in errors[1][1]
    assert "backwards" in errors[3][1]
    _library, rows = coverage.coverage_of(staff, "NCU")
    spans = {row.issn: (row.title, row.year_from, row.year_to) for row in rows}
    assert spans == {"0028-0836": ("Nature", 1997, None), "1476-4687": ("Nature", 1997, None),
                     "0378-5955": ("Hearing Research", 1978, 2020)}


def test_a_kbart_file_without_its_columns_is_refused(staff):
    with pytest.raises(RuleViolation, match="date_first_issue_online"):
        kbart.import_kbart(staff, "NCU", b"publication_title\tprint_identifier\nX\t0028-0836\n")


def test_export_is_kbart_that_reads_back_the_same(staff):
    kbart.import_kbart(staff, "NCU", FILE.encode("utf-8"))
    name, text = kbart.export_kbart(staff, "NCU")
    assert name.startswith("JALA_NCU_journals_") and name.endswith(".txt")
    assert text.splitlines()[0].split("\t") == list(kbart.COLUMNS)
    spans, errors = kbart.read_kbart(text)
    assert not errors and spans["0378-5955"]["year_from"] == 1978


def test_export_keeps_a_title_with_breaks_and_tabs_on_its_one_line(staff):
    coverage.save_coverage(staff, "NCU", issn="0028-0836", title="Nature:\r\nan\tinternational"
                           "\u2028weekly journal")
    _name, text = kbart.export_kbart(staff, "NCU")
    assert len(text.splitlines()) == 2
    spans, errors = kbart.read_kbart(text)
    assert not errors
    assert spans["0028-0836"]["title"] == "Nature: an international weekly journal"


def test_journal_page_loads_a_kbart_file_and_offers_the_download(client):
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    response = post_form(client, "/libraries/NCU/journals",
                         {"csv-file": (io.BytesIO(FILE.encode("utf-8")), "ncu_kbart.txt")},
                         token_from="/libraries/NCU/journals",
                         content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "Line 5" in page and "1476-4687" in page and "0378-5955" in page
    download = client.get("/libraries/NCU/journals.kbart.txt")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "Hearing Research\t0378-5955" in download.get_data(as_text=True)


EMBARGOED = "\n".join([
    HEADER,
    kbart_line(publication_title="Library Trends", print_identifier="0024-2594",
               date_first_issue_online="1990", embargo_info="R1Y", coverage_depth="fulltext"),
    kbart_line(publication_title="Serials Review", print_identifier="0098-7913",
               date_first_issue_online="1975", embargo_info="P3Y", coverage_depth="fulltext"),
    kbart_line(publication_title="Hearing Research", print_identifier="0378-5955",
               date_first_issue_online="1978", date_last_issue_online="1995",
               coverage_depth="fulltext"),
    kbart_line(publication_title="Hearing Research", print_identifier="0378-5955",
               date_first_issue_online="2001", embargo_info="P2Y", coverage_depth="fulltext"),
    kbart_line(publication_title="Odd", print_identifier="2049-3630", embargo_info="1 year",
               coverage_depth="fulltext"),
]) + "\n"


def test_an_embargo_keeps_articles_of_the_walled_years_away_from_the_library(staff):
    from jala import clock
    from jala.delivery.routing import _covering_libraries
    from tests.support.factories import library_id

    saved, errors = kbart.import_kbart(staff, "NCU", EMBARGOED.encode("utf-8"))
    assert saved == 3 and [number for number, _reason in errors] == [6]
    assert "1 YEAR" in errors[0][1]
    _library, rows = coverage.coverage_of(staff, "NCU")
    # one P window among several lines would shut the older lines' years: it is not kept
    assert {row.issn: row.embargo for row in rows} == {
        "0024-2594": "R1Y", "0098-7913": "P3Y", "0378-5955": None}
    this_year = clock.local_today().year
    ncu = library_id("NCU")
    assert ncu not in _covering_libraries("0024-2594", this_year)   # the latest year: walled
    assert ncu in _covering_libraries("0024-2594", this_year - 2)
    assert ncu in _covering_libraries("0098-7913", this_year - 1)
    assert ncu not in _covering_libraries("0098-7913", this_year - 10)  # only the past 3 years
    assert ncu in _covering_libraries("0378-5955", 1980)


@pytest.mark.parametrize("embargo, year, allowed", [
    ("R1Y", 2026, False), ("R1Y", 2025, True), ("R6M", 2026, True), ("R6M", 2027, False),
    ("P2Y", 2024, True), ("P2Y", 2023, False), ("R30D", 2026, True), ("P1M", 2025, False),
    (None, 1900, True),
])
def test_embargo_walls_are_counted_back_from_the_day_of_the_request(embargo, year, allowed):
    from datetime import date

    assert coverage.embargo_allows(embargo, year, date(2026, 12, 5)) is allowed


def test_the_export_writes_the_embargo_back(staff):
    kbart.import_kbart(staff, "NCU", EMBARGOED.encode("utf-8"))
    spans, errors = kbart.read_kbart(kbart.export_kbart(staff, "NCU")[1])
    assert not errors and spans["0024-2594"]["embargo"] == "R1Y"


def test_editing_a_journal_on_the_page_keeps_its_kbart_embargo(staff):
    kbart.import_kbart(staff, "NCU", EMBARGOED.encode("utf-8"))
    coverage.save_coverage(staff, "NCU", issn="0024-2594", title="Library Trends",
                           year_from="1985")
    _library, rows = coverage.coverage_of(staff, "NCU")
    assert {row.issn: (row.year_from, row.embargo) for row in rows}["0024-2594"] == (1985, "R1Y")
