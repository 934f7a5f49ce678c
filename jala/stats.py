"""Statistics shared by every service: months shown, counting by month, charts, CSV and XLSX.

Each service owns its counting query (what a "received" or "answered" is); this module owns
how the figures are windowed, charted and exported, so every statistics page reads alike.
"""
import csv
import io
from datetime import datetime, timedelta
from typing import NamedTuple

import xlsxwriter
from flask import Response

from jala import clock
from jala.errors import NotAllowed
from jala.membership import get_library

DEFAULT_MONTHS, MAX_MONTHS = 12, 60


def month_sql(column):
    """SQL for the Beijing-time month (``YYYY-MM``) of a timestamp column."""
    return (f"to_char(date_trunc('month', {column} AT TIME ZONE 'Asia/Shanghai'), "
            "'YYYY-MM')")


class Window(NamedTuple):
    """The whole months a statistics page covers, up to now."""

    months: int
    first: object  # the first day of the first month (a date)
    since: datetime
    until: datetime


def window(months_arg):
    """The window for ``?months=`` (1 to 60, anything else means the default 12)."""
    text = str(months_arg or "")
    months = int(text) if text.isdecimal() and 1 <= int(text) <= MAX_MONTHS else DEFAULT_MONTHS
    first = clock.first_of_month_back(months)
    return Window(months, first, clock.start_of_day(first), clock.now() + timedelta(seconds=1))


def staff_filters(user, args, refusal):
    """``(library or None, window)`` a staff statistics page asks for (``?library=&months=``).

    Anyone but library staff is refused with ``refusal``.
    """
    if not user.is_staff:
        raise NotAllowed(refusal)
    library = get_library(args["library"]) if args.get("library") else None
    return library, window(args.get("months"))


def month_keys(first, months):
    """``["2026-01", "2026-02", …]``: ``months`` months from the one ``first`` falls in."""
    keys, day = [], first
    for _month in range(months):
        keys.append(day.strftime("%Y-%m"))
        day = (day + timedelta(days=32)).replace(day=1)
    return keys


def hours(seconds):
    """Seconds as hours with one decimal (None stays None)."""
    return None if seconds is None else round(seconds / 3600, 1)


def bar_chart(span, points):
    """Two bars a month for an inline SVG: ``points`` are ``(month, first, second)`` counts.

    Every month of ``span`` (a ``Window``) has its bars, empty months too; counts of the same
    month add up. Returns ``{"months": [(month, a, b, a / top, b / top)], "top": top}``.
    """
    by_month = {key: [0, 0] for key in month_keys(span.first, span.months)}
    for month, a, b in points:
        bars = by_month.setdefault(month, [0, 0])
        bars[0] += a
        bars[1] += b
    top = max([a for a, _b in by_month.values()] + [1])
    return {"months": [(m, a, b, a / top, b / top) for m, (a, b) in sorted(by_month.items())],
            "top": top}


def csv_text(rows, columns):
    """Rows (mappings) as CSV text: a header line of ``columns``, then one line per row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return out.getvalue()


def csv_download(rows, columns, filename):
    """A CSV file download (with a BOM, so spreadsheets read the Chinese right)."""
    return Response("\ufeff" + csv_text(rows, columns), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


def xlsx_download(rows, columns, filename, sheet_title):
    """An XLSX file download of ``rows`` (mappings): a bold header row, then one row each."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(sheet_title[:31])
    bold = book.add_format({"bold": True})
    sheet.write_row(0, 0, columns, bold)
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, ["" if row[c] is None else row[c] for c in columns])
    sheet.freeze_panes(1, 0)
    book.close()
    return Response(out.getvalue(), headers={
        "Content-Disposition": f"attachment; filename={filename}"},
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
