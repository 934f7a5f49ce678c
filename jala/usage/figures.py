"""Reading the roll-up: figures by month or year, the lending balance, the queries asked.

``monthly_figures`` is the contract other parts (the annual report) read.
"""
from datetime import date, timedelta

from sqlalchemy import text

from jala import clock
from jala.clock import SHANGHAI
from jala.extensions import db
from jala.stats import month_keys, window
from jala.usage.rollup import MEASURES

SMALL_CELL = 5  # counts below this are suppressed in exports shown outside the library
SUPPRESSED = "suppressed"  # a year's total hidden because one of its months was
MIN_QUERY_SEARCHES = 5  # a query is shown only when searched at least this often

BALANCE = (("ill_lent", "union_lent"), ("ill_borrowed", "union_borrowed"))


def _month_bounds(since, until):
    """The roll-up's month dates covering instants ``[since, until)`` (Beijing months)."""
    return {"first": since.astimezone(SHANGHAI).date().replace(day=1),
            "last": until.astimezone(SHANGHAI).date()}


def monthly_figures(library_id=None, since=None, until=None):
    """``{measure: {"YYYY-MM": n}}`` from the roll-up, for one library or all together.

    ``since``/``until`` are instants (a ``jala.stats.Window``'s; by default the last 12
    months); every measure is present. Months are counted in Beijing time.
    """
    if since is None or until is None:
        span = window(None)
        since, until = since or span.since, until or span.until
    bounds = _month_bounds(since, until)
    rows = db.session.execute(text("""
        SELECT measure, to_char(month, 'YYYY-MM') AS month, sum(n) AS n FROM usage_monthly
         WHERE month >= :first AND month <= :last
           AND (CAST(:library_id AS integer) IS NULL OR library_id = :library_id)
         GROUP BY measure, month"""), {**bounds, "library_id": library_id}).all()
    figures = {measure: {} for measure in MEASURES}
    for measure, month, n in rows:
        figures.setdefault(measure, {})[month] = int(n)
    return figures


def year_totals(year):
    """``{measure: n}`` of the whole alliance in ``year`` (the annual report's figures)."""
    since = clock.start_of_day(date(year, 1, 1))
    until = clock.start_of_day(date(year + 1, 1, 1)) - timedelta(microseconds=1)
    return {measure: sum(months.values())
            for measure, months in monthly_figures(None, since, until).items()}


def by_library(since, until):
    """``{library_id: {measure: n}}`` over the window (null: visitors / no library)."""
    rows = db.session.execute(text("""
        SELECT library_id, measure, sum(n) FROM usage_monthly
         WHERE month >= :first AND month <= :last GROUP BY library_id, measure"""),
        _month_bounds(since, until)).all()
    result = {}
    for library_id, measure, n in rows:
        result.setdefault(library_id, {})[measure] = int(n)
    return result


def per_library_periods(since, until, by="month"):
    """``{(period, library_id): {measure: n}}`` over the window, by month or year."""
    period = "to_char(month, 'YYYY')" if by == "year" else "to_char(month, 'YYYY-MM')"
    rows = db.session.execute(text(f"""
        SELECT {period} AS period, library_id, measure, sum(n) FROM usage_monthly
         WHERE month >= :first AND month <= :last GROUP BY 1, 2, 3"""),
        _month_bounds(since, until)).all()
    result = {}
    for key, library_id, measure, n in rows:
        result.setdefault((key, library_id), {})[measure] = int(n)
    return result


def lending_balance(since, until, libraries):
    """``[(library, lent, borrowed, lent - borrowed)]`` per library: ILL and union loans."""
    totals = by_library(since, until)
    rows = []
    for library in libraries:
        figures = totals.get(library.id, {})
        lent = sum(figures.get(m, 0) for m in BALANCE[0])
        borrowed = sum(figures.get(m, 0) for m in BALANCE[1])
        rows.append((library, lent, borrowed, lent - borrowed))
    return rows


def queries(since, until, *, zero_only=False, limit=20):
    """``[(query, searches, zero_hits)]`` most asked (or most often found nothing), ≥ 5 times."""
    order = "zero_hits" if zero_only else "searches"
    having = "sum(zero_hits)" if zero_only else "sum(searches)"
    return [tuple(row) for row in db.session.execute(text(f"""
        SELECT query, sum(searches) AS searches, sum(zero_hits) AS zero_hits
          FROM usage_query_monthly WHERE month >= :first AND month <= :last
         GROUP BY query HAVING {having} >= :least
         ORDER BY {order} DESC, query LIMIT :limit"""),
        {**_month_bounds(since, until), "least": MIN_QUERY_SEARCHES, "limit": limit}).all()]


def series(figures, first_measure, second_measure, span, by="month"):
    """``[(period, a, b)]`` for a chart or table, every month (or year) of the window."""
    keys = month_keys(span.first, span.months)
    points = [(k, figures.get(first_measure, {}).get(k, 0),
               figures.get(second_measure, {}).get(k, 0)) for k in keys]
    if by != "year":
        return points
    years = {}
    for month, a, b in points:
        total = years.setdefault(month[:4], [0, 0])
        total[0] += a
        total[1] += b
    return [(year, a, b) for year, (a, b) in sorted(years.items())]


def table(figures, span, by="month"):
    """``[{"period": …, measure: n, …}]`` by month or year over the window."""
    keys = month_keys(span.first, span.months)
    rows = {}
    for key in keys:
        period = key[:4] if by == "year" else key
        row = rows.setdefault(period, {"period": period, **dict.fromkeys(MEASURES, 0)})
        for measure in MEASURES:
            row[measure] += figures.get(measure, {}).get(key, 0)
    return list(rows.values())


def suppress(value):
    """A count as shown outside its library: below ``SMALL_CELL`` (but not 0) it is hidden."""
    return "<5" if 0 < value < SMALL_CELL else value


def years_with_suppressed_months(since, until):
    """``{(year, library_id, measure)}`` whose year has a month that ``suppress`` hides.

    Their year totals are hidden too: else the month could be had by subtraction.
    """
    cells = per_library_periods(since, until, "month")
    return {(month[:4], library_id, measure)
            for (month, library_id), counts in cells.items()
            for measure, n in counts.items() if 0 < n < SMALL_CELL}
