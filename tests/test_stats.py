"""Statistics windows, charts and CSV shared by every service's statistics page."""
from datetime import date

import pytest

from jala import clock
from jala.stats import Window, bar_chart, csv_text, month_keys, window


@pytest.mark.parametrize("raw,months", [(None, 12), ("", 12), ("abc", 12), ("0", 12),
                                        ("61", 12), ("1", 1), ("60", 60), ("-3", 12)])
def test_the_window_takes_1_to_60_months_else_a_year(raw, months):
    span = window(raw)
    assert span.months == months
    assert span.first == clock.first_of_month_back(months) and span.first.day == 1
    assert span.since.date() == span.first and span.until > clock.now()


def test_month_keys_cross_the_new_year():
    assert month_keys(date(2030, 11, 1), 4) == ["2030-11", "2030-12", "2031-01", "2031-02"]


def test_the_chart_has_every_month_sums_a_month_and_scales_to_the_highest():
    span = Window(3, date(2031, 1, 1), None, None)
    chart = bar_chart(span, [("2031-01", 2, 1), ("2031-03", 4, 4), ("2031-01", 2, 0)])
    assert chart["top"] == 4
    assert chart["months"] == [("2031-01", 4, 1, 1.0, 0.25), ("2031-02", 0, 0, 0.0, 0.0),
                               ("2031-03", 4, 4, 1.0, 1.0)]
    assert bar_chart(span, [])["top"] == 1  # an empty chart never divides by zero


def test_csv_has_a_header_and_empty_cells_for_missing_values():
    rows = [{"month": "2031-01", "library": "NCU", "rate": None}]
    assert csv_text(rows, ("month", "library", "rate")).splitlines() == [
        "month,library,rate", "2031-01,NCU,"]
