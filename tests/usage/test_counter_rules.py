"""COUNTER R5.1 rules as plain functions: request checks, double clicks, unique counting, and
reports that validate against the official COUNTER_SUSHI 5.1 JSON schemas (no HTTP, no DB)."""
from datetime import UTC, date, datetime, timedelta

import pytest

from jala.usage import counter
from jala.usage.counter import Event, SushiError
from tests.usage.data.counter_schema import errors

TODAY = date(2026, 12, 5)
T0 = datetime(2026, 10, 10, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, October


def at(seconds):
    return T0 + timedelta(seconds=seconds)


def request(report_id="pr", **args):
    args = {"begin_date": "2026-10", "end_date": "2026-11", **args}
    return counter.parse_report_request(report_id, args, TODAY)


def codes(req):
    return [e["Code"] for e in req.exceptions]


# --- the request ---------------------------------------------------------------------------

def test_months_are_read_from_yyyy_mm_and_yyyy_mm_dd():
    assert counter.parse_month("2026-02") == date(2026, 2, 1)
    assert counter.parse_month("2026-02-28") == date(2026, 2, 1)
    assert counter.parse_month("2026-02-30") is None
    assert counter.parse_month("2026-13") is None
    assert counter.parse_month("26-01") is None


def test_missing_dates_are_insufficient_information_1030():
    with pytest.raises(SushiError) as raised:
        counter.parse_report_request("pr", {"end_date": "2026-10"}, TODAY)
    assert (raised.value.code, raised.value.status) == (1030, 400)


@pytest.mark.parametrize("begin, end", [("2026-11", "2026-10"), ("2026-1", "2026-10"),
                                        ("last month", "2026-10")])
def test_bad_or_reversed_dates_are_invalid_date_arguments_3020(begin, end):
    with pytest.raises(SushiError) as raised:
        counter.parse_report_request("pr", {"begin_date": begin, "end_date": end}, TODAY)
    assert (raised.value.code, raised.value.status) == (3020, 400)


def test_the_current_month_is_not_ready_3031():
    assert 3031 in codes(request(end_date="2026-12"))
    assert 3031 not in codes(request(end_date="2026-11-30"))


def test_unknown_parameters_are_named_in_3050_and_ignored():
    req = request(colour="blue")
    assert codes(req) == [3050] and req.exceptions[0]["Data"] == "colour"


def test_unsupported_filter_values_are_named_in_3060_and_the_rest_applies():
    req = request(metric_type="Searches_Platform|Bogus", granularity="Total")
    assert req.metrics == ("Searches_Platform",)
    [warning] = req.exceptions
    assert warning["Code"] == 3060 and "Bogus" in warning["Data"] and "granularity" in \
        warning["Data"]


def test_the_filters_echo_whole_months():
    req = request(begin_date="2026-10-15", end_date="2026-11-02")
    assert req.filters == {"Begin_Date": "2026-10-01", "End_Date": "2026-11-30"}


# --- counting ------------------------------------------------------------------------------

def test_two_clicks_within_30_seconds_count_once_and_the_later_is_kept():
    events = [Event(at(0), "record_view", 1, "s"), Event(at(20), "record_view", 1, "s"),
              Event(at(45), "record_view", 1, "s"), Event(at(100), "record_view", 1, "s")]
    kept = counter.filter_double_clicks(events)
    # 0→20→45 is a chain of double clicks (each within 30 s of the one before): one counts
    assert [e.at for e in kept] == [at(45), at(100)]


def test_double_click_filter_needs_same_session_item_and_action():
    events = [Event(at(0), "record_view", 1, "a"), Event(at(5), "record_view", 1, "b"),
              Event(at(6), "record_view", 2, "a"), Event(at(7), "link_click", 1, "a"),
              Event(at(8), "record_view", 3, None), Event(at(9), "record_view", 3, None)]
    assert len(counter.filter_double_clicks(events)) == 6


def test_unique_items_count_once_per_session_and_nothing_is_a_request():
    """Link clicks (out to another platform) and MARC downloads (metadata) are investigations
    only: the portal delivers no content, so no COUNTER Request is counted."""
    events = [Event(at(0), "record_view", 1, "a"), Event(at(600), "record_view", 1, "a"),
              Event(at(700), "link_click", 1, "a"), Event(at(800), "record_view", 1, "b"),
              Event(at(900), "catalogue_download", 2, "b")]
    counts = counter.item_counts(events, lambda record_id: "Book" if record_id == 1 else "Report")
    one, two = counts[1], counts[2]
    assert one["Total_Item_Investigations"] == {"2026-10": 4}
    assert one["Unique_Item_Investigations"] == {"2026-10": 2}
    assert one["Unique_Title_Investigations"] == {"2026-10": 2}
    assert two["Total_Item_Investigations"] == two["Unique_Item_Investigations"] == {
        "2026-10": 1}
    assert "Unique_Title_Investigations" not in two  # unique titles are counted for books only
    for record_counts in (one, two):
        assert not [m for m in record_counts if m.endswith("_Requests")]


def test_a_report_spans_at_most_36_months_3020():
    assert counter.parse_report_request("pr", {"begin_date": "2023-11", "end_date": "2026-10"},
                                        TODAY).begin == date(2023, 11, 1)
    with pytest.raises(SushiError) as raised:
        counter.parse_report_request("pr", {"begin_date": "2023-10", "end_date": "2026-10"},
                                     TODAY)
    assert raised.value.code == 3020 and raised.value.status == 400
    assert "at most 36 months" in raised.value.data


def test_months_are_beijing_months():
    late = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)  # 1 November, 01:00 in Beijing
    assert counter.local_month(late) == "2026-11"


# --- the reports against the official schema ---------------------------------------------------

def _header(req):
    return counter.report_header(req, "江西财经大学图书馆", "JXUFE",
                                 datetime(2026, 12, 5, 4, 0, tzinfo=UTC))


RECORDS = {
    1: {"id": 1, "title": "红楼梦", "publisher": "人民文学出版社", "type": "book", "year": 1982,
        "isbn": ["978-7-02-000220-7"], "issn": [], "doi": None},
    2: {"id": 2, "title": "江西省志", "publisher": "", "type": "report", "year": None,
        "isbn": [], "issn": [], "doi": "10.1234/abc"},
    3: {"id": 3, "title": "An article", "publisher": "X", "type": "article", "year": 2020,
        "isbn": [], "issn": [], "doi": None},
}
EVENTS = [Event(at(0), "record_view", 1, "a"), Event(at(60), "link_click", 1, "a"),
          Event(at(86400 * 30), "record_view", 2, "b"),
          Event(at(86400 * 30 + 5), "catalogue_download", 2, "b"),
          Event(at(120), "record_view", 3, "a"), Event(at(130), "link_click", 3, "a")]


def _counts():
    return counter.item_counts(EVENTS, lambda r: counter.DATA_TYPES[RECORDS[r]["type"]][1])


def _pr_type(record_id):
    return counter.DATA_TYPES[RECORDS[record_id]["type"]][0]


def test_platform_report_validates_against_the_counter_51_schema():
    req = request(attributes_to_show="Access_Method")
    report = counter.build_pr(req, _header(req), {"2026-10": 7, "2026-11": 2}, _counts(),
                              _pr_type)
    assert errors(report, "PR") == []
    rows = {row["Data_Type"]: row["Performance"]
            for row in report["Report_Items"][0]["Attribute_Performance"]}
    assert rows["Platform"] == {"Searches_Platform": {"2026-10": 7, "2026-11": 2}}
    assert rows["Book"]["Total_Item_Investigations"] == {"2026-10": 2}
    assert rows["Article"]["Total_Item_Investigations"] == {"2026-10": 2}
    assert rows["Report"]["Unique_Item_Investigations"] == {"2026-11": 1}
    assert not [m for perf in rows.values() for m in perf if m.endswith("_Requests")]


def test_title_report_validates_and_lists_titles_not_articles():
    req = request("tr", attributes_to_show="YOP|Access_Method")
    report = counter.build_tr(req, _header(req), _counts(), RECORDS)
    assert errors(report, "TR") == []
    titles = [item["Title"] for item in report["Report_Items"]]
    assert titles == ["江西省志", "红楼梦"]
    book = report["Report_Items"][1]
    assert book["Item_ID"] == {"Proprietary": "jala:1", "ISBN": "978-7-02-000220-7"}
    assert book["Attribute_Performance"][0]["YOP"] == "1982"
    assert report["Report_Items"][0]["Attribute_Performance"][0]["YOP"] == "0001"


def test_a_report_without_usage_says_3030_and_still_validates():
    req = request(begin_date="2025-01", end_date="2025-02")
    for name, report in (("PR", counter.build_pr(req, _header(req), {}, {}, _pr_type)),
                         ("TR", counter.build_tr(req._replace(report_id="tr"),
                                                 _header(req._replace(report_id="tr")), {},
                                                 RECORDS))):
        assert report["Report_Items"] == []
        assert [e["Code"] for e in report["Report_Header"]["Exceptions"]] == [3030]
        assert errors(report, name) == []


def test_exception_answers_validate_as_their_http_status_says():
    for code, response in ((1030, "400_Exception"), (3020, "400_Exception"),
                           (2000, "401_Exception"), (2020, "401_Exception"),
                           (2010, "403_Exception"), (1020, "429_Exception")):
        refusal = SushiError(code, "detail")
        assert refusal.status == int(response[:3])
        assert errors(refusal.body(), response=response) == []
