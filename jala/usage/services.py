"""Who may see which statistics, and what each dashboard shows (rules here; views stay thin).

The alliance's dashboard is for committee members and the centre (the chair library's portal
admins); a library's dashboard is for its own staff (and the centre). Every figure is an
aggregate: no statistic names a reader.
"""
from flask_babel import gettext as _

from jala.audit import record_audit
from jala.errors import NotAllowed
from jala.governance.center import is_center_admin
from jala.governance.committee import committee_seat
from jala.membership import get_library, member_libraries
from jala.permissions import can_staff_library
from jala.stats import bar_chart, window
from jala.usage import figures
from jala.usage.rollup import last_refresh

PAIRS = (
    ("searches", "zero_hit_searches"),
    ("record_views", "link_clicks"),
    ("delivery_received", "delivery_fulfilled"),
    ("lent", "borrowed"),
    ("reference_questions", "reference_answered"),
    ("sign_ins", "registrations"),
)


def can_see_alliance(user):
    """Committee members and the centre see the alliance's figures."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and (
        committee_seat(user) is not None or is_center_admin(user)))


def require_alliance_viewer(user):
    """Refuse anyone but committee members and the centre."""
    if not can_see_alliance(user):
        raise NotAllowed(_("The alliance's statistics are for committee members and the "
                           "centre."))


def require_library_viewer(user, code):
    """The library whose statistics ``user`` may see (its staff, or the centre), or refuse."""
    library = get_library(code)
    if not (getattr(user, "is_authenticated", False) and (
            can_staff_library(user, library.id) or is_center_admin(user))):
        raise NotAllowed(_("A library's statistics are for its own staff."))
    return library


def _by(args):
    return "year" if args.get("by") == "year" else "month"


def _with_balance(data):
    data["lent"] = _sum_months(data, figures.BALANCE[0])
    data["borrowed"] = _sum_months(data, figures.BALANCE[1])
    return data


def _sum_months(data, measures):
    total = {}
    for measure in measures:
        for month, n in data.get(measure, {}).items():
            total[month] = total.get(month, 0) + n
    return total


def _charts(data, span):
    return [(pair, bar_chart(span, figures.series(data, pair[0], pair[1], span)))
            for pair in PAIRS]


def dashboard(user, args, code=None):
    """Everything a dashboard page shows; ``code`` picks a library's own page."""
    if code is None:
        require_alliance_viewer(user)
        library = get_library(args["library"]) if args.get("library") else None
    else:
        library = require_library_viewer(user, code)
    span, by = window(args.get("months")), _by(args)
    data = _with_balance(figures.monthly_figures(library.id if library else None,
                                                 span.since, span.until))
    libraries = member_libraries(include_former=True)
    result = {"library": library, "span": span, "by": by, "figures": data,
              "charts": _charts(data, span), "rows": figures.table(data, span, by),
              "libraries": libraries, "refreshed_at": last_refresh(), "alliance": code is None}
    if code is None:
        result["balance"] = figures.lending_balance(span.since, span.until, libraries)
        result["top_queries"] = figures.queries(span.since, span.until)
        result["zero_queries"] = figures.queries(span.since, span.until, zero_only=True)
    else:
        result["balance"] = [row for row in figures.lending_balance(
            span.since, span.until, libraries) if row[0].id == library.id]
    return result


EXPORT_MEASURES = figures.MEASURES


def export_rows(user, args, code=None):
    """``(columns, rows, name)`` for the CSV/XLSX file of a dashboard.

    The alliance's file has a row per period and library, every count below 5 shown as "<5"
    (it goes outside the libraries); by year, a year's total is "suppressed" too when a month
    of it was (else the month could be had by subtraction). A library's own file has its
    figures as they are.
    """
    if code is None:
        require_alliance_viewer(user)
        library = None
    else:
        library = require_library_viewer(user, code)
    span, by = window(args.get("months")), _by(args)
    columns = ("period", "library", *EXPORT_MEASURES)
    rows = []
    if library is not None:
        data = figures.monthly_figures(library.id, span.since, span.until)
        for row in figures.table(data, span, by):
            rows.append({"library": library.code, **row})
        name = f"usage-{library.code.lower()}"
    else:
        names = {lib.id: lib.code for lib in member_libraries(include_former=True)}
        cells = figures.per_library_periods(span.since, span.until, by)
        hidden = figures.years_with_suppressed_months(span.since, span.until) \
            if by == "year" else set()
        for (period, library_id), counts in sorted(
                cells.items(), key=lambda item: (item[0][0], names.get(item[0][1], "~"))):
            rows.append({"period": period, "library": names.get(library_id, "-"), **{
                m: figures.SUPPRESSED if (period, library_id, m) in hidden
                else figures.suppress(counts.get(m, 0)) for m in EXPORT_MEASURES}})
        name = "usage-alliance"
    record_audit(user, "usage.export", "library" if library else "alliance",
                 library.id if library else 0, library_id=library.id if library else None,
                 details={"months": span.months, "by": by})
    return columns, rows, f"{name}-{by}-{span.months}"
