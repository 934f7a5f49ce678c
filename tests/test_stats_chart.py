"""The statistics chart on a phone: month names in the UI language, as many as fit."""
import re
from datetime import date

from flask import render_template_string

from jala.stats import Window, bar_chart

CHART = '{% import "_stats.html" as stats with context %}{{ stats.bars(chart, "c", "a", "b") }}'


def _labels(ctx, months):
    first = date(2024, 1, 1)
    chart = bar_chart(Window(months, first, None, None), [("2024-03", 3, 1)])
    html = render_template_string(CHART, chart=chart)
    return re.findall(r'<text[^>]*y="134"[^>]*>([^<]+)</text>', html), html


def test_a_year_is_labelled_every_other_month_in_chinese(ctx):
    labels, html = _labels(ctx, 12)
    assert labels == [f"{n}月" for n in range(2, 13, 2)]
    assert 'viewBox="0 0 586 160"' in html and ">2024</text>" in html


def test_three_years_are_labelled_every_fourth_month_ending_with_the_last(ctx):
    labels, html = _labels(ctx, 36)
    assert len(labels) == 9 and labels[-1] == "12月" and labels[0] == "4月"
    assert [y for y in ("2024", "2025", "2026") if f">{y}</text>" in html] == [
        "2024", "2025", "2026"]
